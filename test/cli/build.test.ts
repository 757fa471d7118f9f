// The compiled runtime the image runs: `npm run build` emits dist/, and plain node runs it with
// every command found and the console's static files beside its page module.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;

beforeAll(async () => {
  const built = await execa('npm', ['run', 'build'], { cwd: ROOT, reject: false });
  if (built.exitCode !== 0) throw new Error(`npm run build failed:\n${built.stdout}\n${built.stderr}`);
}, 120_000);

describe('npm run build', () => {
  it('emits dist/ that plain node runs: help lists every command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlinders-build-'));
    const config = join(dir, 'admin.yaml');
    writeFileSync(config, 'cli:\n  role: admin\n');
    const res = await execa(process.execPath, [join(ROOT, 'dist/src/main.js'), 'help', '--json'], { reject: false, env: { VLINDERS_OPS_CONFIG: config, PATH: process.env.PATH ?? '' }, extendEnv: false });
    expect(res.exitCode, res.stderr).toBe(0);
    for (const command of commands) expect(res.stdout).toContain(command.name);
    expect(existsSync(join(ROOT, 'dist/src/console/static/index.html'))).toBe(true);
  }, 60_000);
});

describe('dist/ as the image has it: without the sandbox and the console', () => {
  it('runs commands and help, and says what --sandbox and the console need instead of crashing', async () => {
    // The Dockerfile's build stage deletes these two trees; node_modules resolves from the repository as in /app.
    const image = join(ROOT, 'dist-image');
    rmSync(image, { recursive: true, force: true });
    cpSync(join(ROOT, 'dist'), image, { recursive: true });
    for (const dir of ['src/sandbox', 'src/console']) rmSync(join(image, dir), { recursive: true });
    try {
      const env = { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'vlinders-image-')) };
      const node = (args: string[]) => execa(process.execPath, [join(image, 'src/main.js'), ...args], { reject: false, env, extendEnv: false });
      const help = await node(['--help']);
      expect(help.exitCode, help.stderr).toBe(0);
      for (const command of commands) expect(help.stdout).toContain(command.usage);
      const sandbox = await node(['--sandbox', 'status']);
      expect(sandbox.exitCode).toBe(2);
      expect(sandbox.stderr).toContain('--sandbox is development code, left out of this image');
      const console = await node(['serve']);
      expect(console.exitCode).toBe(2);
      expect(console.stderr).toContain('the local console is development code, left out of this image');
      expect(console.stderr).toContain('SLACK_BOT_TOKEN');
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  }, 60_000);
});
