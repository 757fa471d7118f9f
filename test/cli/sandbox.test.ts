// The terminal on a fresh clone: help with no config, one line of what to do without one, and
// --sandbox running commands end to end against the console's sandbox world (the real binary,
// no config file, no kubeconfig, an empty HOME).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { terminalText } from '../../src/cli/render.js';

const bin = new URL('../../bin/vlinders-ops.js', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'vlinders-fresh-'));
/** As a new user: no config file where the CLI looks, no kubeconfig, nothing in the environment. */
const run = (args: string[]) =>
  execa(process.execPath, [bin, ...args], { reject: false, cwd: home, env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin' }, extendEnv: false });

// Each case starts the real binary under tsx: seconds each, more on a busy machine.
describe('help with no config', { timeout: 60_000 }, () => {
  it.each([['--help'], ['-h'], ['help']])('%s lists every command and the options, exit 0', async (flag) => {
    const res = await run([flag]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('--sandbox');
    for (const c of commands) expect(res.stdout).toContain(c.usage);
    expect(res.stderr).toBe('');
  });

  it('<command> --help and help <command> explain that command, two-word names included', async () => {
    const scale = await run(['scale-gpu', '--help']);
    expect(scale.exitCode).toBe(0);
    expect(scale.stdout).toContain('scale-gpu <replicas>');
    expect(scale.stdout).toContain('operator role');
    const prune = await run(['help', 'backup', 'prune']);
    expect(prune.stdout.split('\n')[0]).toBe('backup prune [--cluster NAME]');
  });

  it('an unknown help topic says so and exits 2', async () => {
    const res = await run(['help', 'nosuch']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('no command "nosuch"');
  });
});

describe('without a config or --sandbox', { timeout: 60_000 }, () => {
  it('says in one line what to do, exit 2', async () => {
    const res = await run(['status']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('vlinders-ops.example.yaml');
    expect(res.stderr).toContain('vlinders-ops --sandbox status');
  });

  it('--as without --sandbox is refused', async () => {
    const res = await run(['--as', 'otto', 'status']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('use it with --sandbox');
  });
});

describe('--sandbox', () => {
  it('status works, and its text has no raw mrkdwn', async () => {
    const res = await run(['--sandbox', 'status']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^✅ status · sandbox/);
    expect(res.stdout).not.toContain('`');
  }, 90_000);

  it('gpu --json prints JSON with a reading of every worker', async () => {
    const res = await run(['--sandbox', 'gpu', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as { title: string; status: string; sections: Array<{ title?: string; rows?: string[][] }> };
    expect(report.title).toBe('gpu');
    expect(report.status).not.toBe('fail');
    const gpus = report.sections.find((s) => s.title === 'GPUs')?.rows ?? [];
    expect(gpus).toHaveLength(3);
    for (const row of gpus) expect(row[2]).toContain('NVIDIA');
  }, 90_000);

  it('--as otto scale-gpu 5 --yes ends ✅ with every worker Ready, progress on stderr', async () => {
    const res = await run(['--sandbox', '--as', 'otto', 'scale-gpu', '5', '--yes']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout.split('\n')[0]).toBe('✅ scale-gpu gpu-workers');
    expect(res.stdout).toContain('5 workers, all Ready');
    expect(res.stderr).toContain('5/5 workers Ready');
  }, 90_000);

  it('holds each demo person to their role: vera (viewer) may not scale', async () => {
    const res = await run(['--sandbox', '--as', 'vera', 'scale-gpu', '5', '--yes']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/operator/);
    const nobody = await run(['--sandbox', '--as', 'mallory', 'status']);
    expect(nobody.exitCode).toBe(2);
    expect(nobody.stderr).toContain('--as takes vera');
  }, 90_000);

  it("slo and gpu health read the world's vLLM and DCGM series (the broken world's: queue, hot GPU, XID 79); without prometheus, one line says what to install", async () => {
    const [slo, health, missing] = await Promise.all([
      run(['--sandbox', 'slo']),
      run(['--sandbox', 'gpu', 'health', '--json']),
      execa(process.execPath, [bin, '--sandbox', 'slo'], { reject: false, cwd: home, env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', PROMETHEUS_BIN: join(home, 'no-prometheus') }, extendEnv: false }),
    ]);
    expect(slo.stdout, slo.stderr).toContain('== ❌ meta-llama/Llama-3.1-8B-Instruct ==');
    expect(slo.stdout).toMatch(/Time to first token\s+700 ms\s+1900 ms/);
    expect(slo.stdout).toMatch(/Requests waiting\s+48 running\s+40/);
    expect(slo.stdout).not.toContain('No vLLM series');
    const report = JSON.parse(health.stdout) as { status: string; sections: Array<{ title?: string; rows?: string[][] }> };
    expect(report.status).toBe('fail');
    const xids = report.sections.find((s) => s.title?.startsWith('XIDs'))?.rows ?? [];
    expect(xids.map((r) => [r[0], r[1]?.split(' ')[0], r[2]])).toEqual([['vlinders-gpu-2', '0', '❌ 79']]);
    const thermal = report.sections.find((s) => s.title === 'Thermal throttling')?.rows ?? [];
    expect(thermal.some((r) => r[0] === 'vlinders-gpu-1' && r[2]?.includes('reached 89 °C'))).toBe(true);
    expect(missing.stdout).toMatch(/^Prometheus could not be read: .*unavailable: install prometheus to read vLLM and DCGM series here \(Debian: apt-get install prometheus\)$/m);
  }, 90_000);

  it('silence add and expire say in one line where silences can be tried (the console), not which config to set', async () => {
    const group = '174ffa86c41835384a24f10ec51e8386772313f4';
    const answers = await Promise.all([run(['--sandbox', 'silence', 'add', group, '1h', '--yes']), run(['--sandbox', 'silence', 'expire', group, '--yes'])]);
    for (const res of answers) {
      expect(res.exitCode, res.stderr).toBe(1);
      const [title, ...rest] = res.stdout.trim().split('\n');
      expect(title).toMatch(/^❌ silence (add|expire)$/);
      expect(rest).toEqual(["Silences belong to alert threads, which the sandbox has only in the console: run npm start and use the silence buttons on #incidents' VllmQueueBacklog thread."]);
    }
  }, 90_000);

  it('a mistyped option gets the nearest real one; an unknown cluster gets no unrelated usage line', async () => {
    const typo = await run(['--sandbox', 'status', '--clustr', 'sandbox']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('Did you mean --cluster?');
    expect(typo.stderr).not.toContain('`');
    const cluster = await run(['--sandbox', 'status', '--cluster', 'prod']);
    expect(cluster.exitCode).toBe(2);
    expect(cluster.stderr).toContain('prod');
    expect(cluster.stderr).not.toContain('Usage:');
  }, 90_000);
});

describe('terminalText', () => {
  it('shows mrkdwn as a terminal would', () => {
    expect(terminalText('Run `scale-gpu 5` *now*')).toBe('Run scale-gpu 5 now');
    expect(terminalText('see <https://grafana.example/d/x|the dashboard>')).toBe('see the dashboard (https://grafana.example/d/x)');
    expect(terminalText('by <@U0DEMOADA> in <#C0DEMOOPS|ops>')).toBe('by @U0DEMOADA in @ops');
    expect(terminalText('a &lt;b&gt; &amp;&amp; c')).toBe('a <b> && c');
    expect(terminalText('```\nNAME  READY\n```')).toBe('NAME  READY');
    // Not emphasis: an asterisk inside a word or a glob stays.
    expect(terminalText('files *.sql.gz and 2*3')).toBe('files *.sql.gz and 2*3');
  });
});
