// The console's sandbox runs the real Alertmanager where it is installed: the demo alert group
// the README's `silence …` examples name has its thread in #incidents, delivered by it; without
// Alertmanager, `silence …` says what to install instead of a config error.
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_CHANNELS, DEMO_USERS, startConsole, type Console } from '../../src/console/index.js';
import { createLogger } from '../../src/core/log.js';
import { SANDBOX_DEMO_GROUP } from '../../src/incidents/silences.js';
import { ALERTMANAGER_MISSING } from '../../src/sandbox/alertmanager/demo.js';
import { findAlertmanager } from '../../src/sandbox/alertmanager/server.js';

const consoles: Console[] = [];
afterAll(async () => {
  for (const app of consoles) await app.close();
}, 30_000);

async function start(alertmanager?: boolean): Promise<Console> {
  const app = await startConsole({ port: 0, kubeconfig: false, log: createLogger('silent'), alertmanager });
  consoles.push(app);
  return app;
}

/** Types a command in the page's composer, as the admin in #ops; resolves with the answer (a message or an ephemeral). */
async function typed(app: Console, text: string): Promise<string> {
  const [messages, ephemerals] = [app.slack.messages.length, app.slack.ephemerals.length];
  const res = await fetch(`${app.url}/api/command`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: DEMO_USERS.admin.id, channel: DEMO_CHANNELS.ops.id, text }) });
  expect(res.status).toBe(200);
  const answer = await app.slack.waitFor(() => app.slack.messages.slice(messages).find((m) => m.channel === DEMO_CHANNELS.ops.id) ?? app.slack.ephemerals.slice(ephemerals).find((e) => e.user === DEMO_USERS.admin.id), 10_000);
  return `${answer.text}\n${JSON.stringify(answer.blocks ?? [])}`;
}

describe("the console's Alertmanager", () => {
  it.runIf(findAlertmanager())('delivers the demo alert group into #incidents, with the silence buttons of the group the README names', async () => {
    const app = await start();
    const buttons = await app.slack.waitFor(() => app.slack.messages.find((m) => m.channel === DEMO_CHANNELS.incidents.id && m.text.startsWith('Silence this alert group')), 10_000);
    expect(buttons.text).toContain(`(group ${SANDBOX_DEMO_GROUP})`);
    const root = app.slack.messages.find((m) => m.ts === buttons.thread_ts);
    expect(root?.text).toMatch(/^⚠️ FIRING: VllmQueueBacklog/);
  }, 60_000);

  it('without Alertmanager, silence commands say what to install', async () => {
    const app = await start(false);
    const answer = await typed(app, `/vlinders silence add ${SANDBOX_DEMO_GROUP} 1h`);
    expect(answer).toContain(ALERTMANAGER_MISSING);
    expect(answer).not.toContain('prometheus.alertmanagerUrl');
  }, 60_000);
});
