// The terminal: the real binary for what a person types, runCli() for the confirmation paths.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { testCommands, type RunLog } from '../fixtures/commands.js';
import { captureLog } from '../fixtures/engine.js';

const bin = new URL('../../bin/vlinders-ops.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vlinders-cli-'));
const configFile = (name: string, yaml: string) => {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
};
const viewerConfig = configFile('viewer.yaml', 'cli:\n  role: viewer\n');
const run = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [bin, ...args], { reject: false, env: { VLINDERS_OPS_CONFIG: viewerConfig, ...env }, extendEnv: false });

// Each case starts the real binary under tsx: seconds each, more on a busy machine.
describe('vlinders-ops binary', { timeout: 60_000 }, () => {
  it('help prints the commands, with no role needed to read it', async () => {
    const res = await run(['help'], { VLINDERS_OPS_CONFIG: configFile('none.yaml', '{}\n') });
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('Commands:');
    expect(res.stdout).toContain('whoami');
  });

  it('--json prints the Report as JSON', async () => {
    const res = await run(['whoami', '--json']);
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ title: 'whoami', sections: [{ fields: expect.arrayContaining([{ label: 'Role here', value: 'viewer' }]) }] });
  });

  it('an unknown command exits 2 with a suggestion', async () => {
    const res = await run(['whoamii']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('Did you mean whoami?');
  });

  it('without cli.role the terminal can run nothing, and says how to fix it', async () => {
    const res = await run(['whoami'], { VLINDERS_OPS_CONFIG: configFile('none.yaml', '{}\n') });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('needs the viewer role');
    expect(res.stderr).toContain('set cli.role');
  });

  it('an invalid config lists every problem by path and exits 2', async () => {
    const bad = configFile('bad.yaml', 'rbac:\n  roles:\n    admin:\n      users: [alice]\ncli:\n  role: god\n');
    const res = await run(['whoami'], { VLINDERS_OPS_CONFIG: bad });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('rbac.roles.admin.users[0]: expected a Slack user id like U012AB3CD');
    expect(res.stderr).toMatch(/cli\.role: /);
  });

  it('serve with a bot token but no app token or signing secret says exactly what to set', async () => {
    const res = await run(['serve'], { SLACK_BOT_TOKEN: 'xoxb-1234567890-abcdefghij' });
    expect(res.exitCode).toBe(2);
    for (const name of ['SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET']) expect(res.stderr).toContain(name);
    expect(res.stderr).not.toContain('xoxb-1234567890-abcdefghij');
  });

  it('serve with no Slack app at all starts the local console, and says what to set for Slack', async () => {
    const child = execa(process.execPath, [bin, 'serve'], { reject: false, env: { VLINDERS_OPS_CONFIG: join(dir, 'absent.yaml'), PORT: '0', HOME: dir, PATH: process.env.PATH ?? '' }, extendEnv: false });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 45_000;
    while (!/SLACK_BOT_TOKEN/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /vlinders-ops console: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    expect(out).toContain('the sandbox cluster');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
  });
});

describe('runCli confirmations', () => {
  const setup = (role: string) => {
    const runLog: RunLog = { runs: [] };
    const out: string[] = [];
    const err: string[] = [];
    const { stream, captured } = captureLog();
    const opts = {
      config: parseConfigText(`cli:\n  role: ${role}\n`),
      commands: [...commands, ...testCommands(runLog)],
      log: createLogger('info', stream),
      user: 'cli:tester',
    };
    return { runLog, out, err, captured, opts, io: (confirm?: (q: string) => Promise<boolean>) => ({ stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), confirm }) };
  };

  it('--yes approves a change, which runs once and is audited as the terminal user', async () => {
    const s = setup('operator');
    const code = await runCli(['test-change', '2', '--yes'], { ...s.opts, io: s.io() });
    expect(code).toBe(0);
    expect(s.runLog.runs).toEqual([{ command: 'test-change', args: { n: 2 }, requester: 'cli:tester' }]);
    expect(s.err.join('\n')).toContain('Will set n to 2');
    expect(s.err.join('\n')).toContain('step 2/2');
    expect(s.out.join('\n')).toContain('n is 2');
    expect(s.captured.audit().map((l) => [l.event, l.surface])).toEqual([
      ['invoke', 'cli'],
      ['confirm_requested', 'cli'],
      ['approve', 'cli'],
      ['outcome', 'cli'],
    ]);
  });

  it('the prompt: no runs nothing, yes runs it', async () => {
    const s = setup('operator');
    expect(await runCli(['test-change', '1'], { ...s.opts, io: s.io(async () => false) })).toBe(3);
    expect(s.runLog.runs).toHaveLength(0);
    expect(await runCli(['test-change', '1'], { ...s.opts, io: s.io(async () => true) })).toBe(0);
    expect(s.runLog.runs).toHaveLength(1);
  });

  it('without a terminal and without --yes, nothing runs', async () => {
    const s = setup('operator');
    expect(await runCli(['test-change', '1'], { ...s.opts, io: s.io() })).toBe(3);
    expect(s.err.join('\n')).toContain('Pass --yes');
    expect(s.runLog.runs).toHaveLength(0);
  });

  it('a destructive command is refused at the terminal, even with --yes', async () => {
    const s = setup('admin');
    expect(await runCli(['test-destroy', 'db-1', '--yes'], { ...s.opts, io: s.io() })).toBe(3);
    expect(s.err.join('\n')).toContain('a second person must approve it');
    expect(s.runLog.runs).toHaveLength(0);
  });
});
