// `vlinders-ops serve` as a process: Socket Mode against the Slack workspace emulator, the
// ops server's /healthz, /readyz, /metrics and /alertmanager, and a clean SIGTERM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_SCOPES, seedConversations } from '../fixtures/world.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { readCaptured } from '../fixtures/captured.js';

const bin = new URL('../../bin/vlinders-ops.js', import.meta.url).pathname;
const TOKEN = 'serve-test-alertmanager-token';
let emu: SlackWorkspaceEmulator;

beforeAll(async () => {
  emu = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
  seedConversations(emu);
});
afterAll(async () => {
  await emu.close();
});

describe('serve', () => {
  it('runs the bot, answers probes and metrics, takes alerts, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlinders-serve-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'rbac:\n  roles:\n    viewer:\n      users: [U0VIEWER1]\nalerts:\n  channel: C0INCIDNT\nlog:\n  level: info\n');
    const child = execa(process.execPath, [bin, 'serve'], {
      reject: false,
      extendEnv: false,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        VLINDERS_OPS_CONFIG: config,
        VLINDERS_OPS_PORT: '0',
        SLACK_BOT_TOKEN: emu.botToken,
        SLACK_APP_TOKEN: emu.appToken,
        SLACK_API_URL: emu.apiUrl,
        ALERTMANAGER_TOKEN: TOKEN,
      },
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const running = await emu.waitFor(() => /"opsPort":(\d+).*vlinders-ops is running/.exec(out) ?? undefined, 15_000);
    const ops = `http://127.0.0.1:${running[1]}`;
    await emu.socketConnected();

    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    await emu.sendSlashCommandSocket({ user: 'U0VIEWER1', channel: 'C0GENERAL', text: 'help' });
    await emu.waitFor(() => emu.ephemerals.find((m) => m.channel === 'C0GENERAL' && m.user === 'U0VIEWER1'));
    const readyz = await fetch(`${ops}/readyz`);
    expect(readyz.status, await readyz.clone().text()).toBe(200);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    expect(metrics).toMatch(/vlinders_ops_commands_total\{command="help",outcome="info"\} 1/);

    const alert = await fetch(`${ops}/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: readCaptured('alertmanager/alertmanager_webhook_v4_firing_cloudeon.json') });
    expect(await alert.json()).toEqual({ outcome: 'opened' });
    expect((await fetch(`${ops}/alertmanager`, { method: 'POST', body: '{}' })).status).toBe(401);

    child.kill('SIGTERM');
    const done = await child;
    expect(done.exitCode).toBe(0);
    expect(out).toContain('shutting down');
  });

  it('refuses to start with a scheduled run of a command that must be approved each time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlinders-serve-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'schedule:\n  channel: C0000OPS1\n  runs:\n    - name: nightly-restore\n      cron: "0 3 * * *"\n      command: restore backup-20261125-020000Z.sql.gz\n');
    const done = await execa(process.execPath, [bin, 'serve'], {
      reject: false,
      extendEnv: false,
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '', HOME: dir, VLINDERS_OPS_CONFIG: config, VLINDERS_OPS_PORT: '0', SLACK_BOT_TOKEN: emu.botToken, SLACK_APP_TOKEN: emu.appToken, SLACK_API_URL: emu.apiUrl },
    });
    expect(done.exitCode).toBe(2);
    expect(done.stderr).toContain("config schedule.runs[0] (nightly-restore): `restore` changes the platform and must be approved each time: it can't be scheduled");
  });
});
