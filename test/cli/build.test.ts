// The compiled runtime the image runs: `npm run build` emits dist/, and plain node runs it with
// every command found and the console's static files beside its page module.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
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
