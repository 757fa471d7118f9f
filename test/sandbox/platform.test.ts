// The sandbox platform the console and `--sandbox` run on: its peers answer their protocols on
// loopback, and without PostgreSQL the postgres pod says what to install instead of failing
// like a broken install.
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { redisPing } from '../../src/redis/ping.js';
import { POSTGRES_MISSING, startSandboxPlatform, type SandboxPlatform } from '../../src/sandbox/platform.js';
import { findAlertmanager } from '../../src/sandbox/alertmanager/server.js';
import { startRedisStub } from '../../src/sandbox/redis/server.js';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

async function exec(platform: SandboxPlatform, argv: string[]) {
  const kube = platform.services.forCluster(undefined).kube();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await kube.exec('vlinders-platform', 'postgres-0', 'postgres', argv, { stderr, stdout: new PassThrough().resume(), timeoutMs: 10_000 });
  return { code, err };
}

describe('the sandbox platform', () => {
  it('without PostgreSQL, pg_dump and psql in postgres-0 say what to install', async () => {
    const platform = await startSandboxPlatform({ postgres: false });
    closers.push(() => platform.close());
    expect(platform.postgres).toBe(false);
    for (const binary of ['pg_dump', 'psql']) {
      const { code, err } = await exec(platform, [binary, '--version']);
      expect(code).not.toBe(0);
      expect(err).toContain(POSTGRES_MISSING);
      expect(err).not.toContain('executable file not found');
    }
  }, 60_000);

  it('points the config at its own peers, every one on loopback', async () => {
    const platform = await startSandboxPlatform({ postgres: false });
    closers.push(() => platform.close());
    const { configSchema } = await import('../../src/config/schema.js');
    const config = platform.configure(configSchema.parse({}));
    for (const url of [config.ray.dashboardUrl, config.backup.endpoint, config.platform.qdrantUrl, config.platform.apiUrl]) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(config.platform.redis).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await redisPing(config.platform.redis, { timeoutMs: 2000 })).reply).toBe('+PONG');
    expect((await fetch(`${config.platform.qdrantUrl}/collections/${config.platform.qdrantCollection}`)).status).toBe(200);
  }, 60_000);

  it('has Alertmanager where it is installed, on loopback, unless turned off', async () => {
    const off = await startSandboxPlatform({ postgres: false, alertmanager: false });
    closers.push(() => off.close());
    expect(off.alertmanager).toBeUndefined();
    const on = await startSandboxPlatform({ postgres: false });
    closers.push(() => on.close());
    if (findAlertmanager()) expect(on.alertmanager?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    else expect(on.alertmanager).toBeUndefined();
  }, 60_000);
});

describe('the in-process Redis', () => {
  it('answers PING as redis-server does, and wants AUTH first when it has a password', async () => {
    const open = await startRedisStub();
    const locked = await startRedisStub({ password: 'pw' });
    closers.push(() => open.close(), () => locked.close());
    expect((await redisPing(open.address, { timeoutMs: 2000 })).reply).toBe('+PONG');
    expect((await redisPing(locked.address, { timeoutMs: 2000 })).reply).toBe('-NOAUTH Authentication required.');
  });
});
