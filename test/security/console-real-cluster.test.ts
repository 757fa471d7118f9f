// Issue 13, item 6: the local console acts as its demo admin. It runs on the sandbox unless it
// is asked for a real cluster; then it prints a one-time token and refuses every API request
// without it, so a plain curl to /api/command can't scale a real RayCluster.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_CHANNELS, DEMO_USERS, startConsole, type Console } from '../../src/console/index.js';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';

const opened: Console[] = [];
afterAll(async () => {
  for (const c of opened) await c.close();
});

/** A machine with a kubeconfig and a config naming a cluster: what used to switch the console to it. */
function realLooking() {
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-console-real-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: prod, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: prod, context: {cluster: prod, user: u}}]\nusers: [{name: u, user: {token: x}}]\ncurrent-context: prod\n');
  return parseConfigText(`clusters: [{ name: prod, kubeconfig: ${kubeconfig} }]\n`);
}

const base = (c: Console) => c.url.replace(/\/#.*$/, '');
const command = (c: Console, headers: Record<string, string> = {}) =>
  fetch(`${base(c)}/api/command`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ user: DEMO_USERS.admin.id, channel: DEMO_CHANNELS.ops.id, text: '/vlinders scale-gpu 5' }) });

describe('the console and a real cluster', () => {
  it('stays on the sandbox, with no token, even where a kubeconfig and clusters exist', async () => {
    const c = await startConsole({ port: 0, log: createLogger('silent'), config: realLooking() });
    opened.push(c);
    expect(c.sandbox).toBe(true);
    expect(c.token).toBeUndefined();
    expect((await fetch(`${c.url}/api/meta`)).status).toBe(200);
  }, 60_000);

  it('on a real cluster only when asked, and then every API request needs the printed token', async () => {
    const c = await startConsole({ port: 0, log: createLogger('silent'), config: realLooking(), kubeconfig: true });
    opened.push(c);
    expect(c.sandbox).toBe(false);
    expect(c.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c.url).toBe(`${base(c)}/#token=${c.token}`);
    const slashesBefore = c.slack.calls.length;
    const attempts: Array<Record<string, string>> = [{}, { 'X-Console-Token': 'x'.repeat(32) }, { 'X-Console-Token': `${c.token}x` }];
    for (const headers of attempts) {
      expect((await fetch(`${base(c)}/api/meta`, { headers })).status).toBe(401);
      expect((await fetch(`${base(c)}/api/state?user=${DEMO_USERS.admin.id}`, { headers })).status).toBe(401);
      const refused = await command(c, headers);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: string }).error).toContain('token');
    }
    // Nothing reached the bot.
    expect(c.slack.calls.length).toBe(slashesBefore);
    expect(c.slack.messages).toEqual([]);
    // The page itself loads (it holds no data), and with the token the API answers.
    expect((await fetch(`${base(c)}/`)).status).toBe(200);
    expect((await fetch(`${base(c)}/api/meta`, { headers: { 'X-Console-Token': c.token ?? '' } })).status).toBe(200);
  }, 60_000);
});
