// Each checklist item against the seeded cluster, a real redis-server and a Qdrant stub: the
// seeded platform passes, each broken variant fails exactly its own item, and each item's
// other failure paths say what is wrong and how to fix it.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { CheckResult, PreflightCheck } from '../../src/preflight/check.js';
import { CHECKS } from '../../src/preflight/checks/index.js';
import { parseVersion } from '../../src/preflight/checks/kubernetes-version.js';
import { checkRs256Pair } from '../../src/preflight/checks/secrets.js';
import { checksFor, runChecks, type CheckOutcome } from '../../src/preflight/run.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { startRedis } from '../tools/redis.js';
import { startCluster } from '../e2e/cluster.js';
import { startPlatformPeers, type PlatformPeers } from './world.js';

let peers: PlatformPeers;
beforeAll(async () => {
  peers = await startPlatformPeers();
});
afterAll(() => peers.close());
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function run(world: WorldOptions = {}, config: Config = peers.config(), checks: readonly PreflightCheck[] = CHECKS, timeoutMs = 5000): Promise<CheckOutcome[]> {
  const cluster = await startCluster(peers.world(world));
  closers.push(() => cluster.close());
  return runChecks(checks, { kube: cluster.client, config, signal: new AbortController().signal, now: new Date() }, timeoutMs);
}

const byId = (outcomes: CheckOutcome[], id: string): CheckResult[] => outcomes.find((o) => o.check.id === id)?.results ?? [];
const notPassing = (outcomes: CheckOutcome[]) => outcomes.filter((o) => o.results.some((r) => r.status !== 'pass')).map((o) => o.check.id);
const checkById = (id: string): PreflightCheck[] => CHECKS.filter((c) => c.id === id);

describe('the seeded cluster', () => {
  it('passes every item', async () => {
    const outcomes = await run();
    expect(outcomes.map((o) => o.check.id)).toEqual(CHECKS.map((c) => c.id));
    for (const o of outcomes) for (const r of o.results) expect(r, o.check.id).toMatchObject({ status: 'pass' });
    expect(byId(outcomes, 'secrets').map((r) => r.detail).join('\n')).toMatch(/an RS256 pair \(RSA 2048\)/);
    expect(byId(outcomes, 'tls')[0]?.detail).toMatch(/covers localhost, valid until \d{4}-\d{2}-\d{2}/);
  });
});

describe('each broken variant fails exactly its item', () => {
  it.each([
    ['a missing secret key', { missingSecretKey: 'stripe-secret-key' }, 'secrets', /lacks stripe-secret-key/],
    ['an expired certificate', { expiredCertificate: true }, 'tls', /expired on \d{4}-\d{2}-\d{2}/],
    ["a TLS key that is not the certificate's", { mismatchedTlsKey: true }, 'tls', /vlinders-tls has a tls.key that is not the certificate's private key: TLS handshakes with it fail/],
    ['no GPU operator', { noGpuOperator: true }, 'gpu-operator', /no GPU Operator pods \(app=gpu-operator\)/],
    ['an old Kubernetes version', { kubernetesMinor: 27 }, 'kubernetes-version', /v1\.27\.16 is older than 1\.28/],
  ] as const)('%s', async (_name, world, id, detail) => {
    const outcomes = await run(world);
    expect(notPassing(outcomes)).toEqual([id]);
    const failed = byId(outcomes, id).find((r) => r.status === 'fail');
    expect(failed?.detail).toMatch(detail);
    expect(failed?.fix, 'says how to fix it').toBeTruthy();
  });

  it('a missing JWT key fails the key pair, not the other Secret keys', async () => {
    const results = byId(await run({ missingSecretKey: 'jwt-public-key' }, peers.config(), checkById('secrets')), 'secrets');
    expect(results.map((r) => r.status)).toEqual(['pass', 'fail']);
    expect(results[1]?.detail).toContain('lacks jwt-public-key');
  });
});

describe('items one by one', () => {
  it('Kubernetes version: managed clusters\' minors like "30+" read as 30', () => {
    expect(parseVersion('1', '30+')).toEqual([1, 30]);
    expect(parseVersion('1', '28')).toEqual([1, 28]);
    expect(parseVersion('', 'x').every(Number.isNaN)).toBe(true);
  });

  it('storage class: none of the configured ones exists', async () => {
    const [r] = byId(await run({}, peers.config({ storageClasses: ['premium-rwo'] }), checkById('storage-class')), 'storage-class');
    expect(r).toMatchObject({ status: 'fail', detail: 'none of premium-rwo exists (the cluster has: fast-ssd, gp3)' });
  });

  it('DNS: a name that does not resolve, and no domain configured', async () => {
    const [bad] = byId(await run({}, peers.config({ domain: 'vlinders.invalid' }), checkById('dns')), 'dns');
    expect(bad?.status).toBe('fail');
    expect(bad?.detail).toMatch(/^vlinders\.invalid does not resolve \(E[A-Z_]+\)$/);
    const [none] = byId(await run({}, peers.config({ domain: undefined }), checkById('dns')), 'dns');
    expect(none).toMatchObject({ status: 'warn', detail: 'no domain configured' });
  });

  it('TLS: a domain the certificate does not cover, near expiry, no Secret', async () => {
    const [other] = byId(await run({}, peers.config({ domain: 'api.vlinders.example' }), checkById('tls')), 'tls');
    expect(other).toMatchObject({ status: 'fail' });
    expect(other?.detail).toContain('does not cover api.vlinders.example (DNS:localhost)');
    const [soon] = byId(await run({}, peers.config({ tlsWarnDays: 400 }), checkById('tls')), 'tls');
    expect(soon?.status).toBe('warn');
    const [gone] = byId(await run({}, peers.config({ tlsSecret: 'no-such-tls' }), checkById('tls')), 'tls');
    expect(gone?.status).toBe('fail');
    expect(gone?.detail).toContain('secrets "no-such-tls" not found');
    expect(gone?.fix).toContain('create secret tls no-such-tls');
  });

  it('TLS: a Secret without tls.key, or with one that is no key, fails without showing it', async () => {
    const cluster = await startCluster(peers.world({}));
    closers.push(() => cluster.close());
    const tlsCheck = async () => byId(await runChecks(checkById('tls'), { kube: cluster.client, config: peers.config(), signal: new AbortController().signal, now: new Date() }, 5000), 'tls')[0];
    const notAKey = Buffer.from('-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n').toString('base64');
    for (const [key, detail] of [
      [undefined, 'vlinders-tls has no tls.key: TLS handshakes with it fail'],
      [notAKey, 'vlinders-tls has a tls.key that is not a PEM private key'],
    ] as const) {
      const current = cluster.kube.get('v1', 'Secret', 'vlinders-platform', 'vlinders-tls');
      if (!current) throw new Error('the world seeds vlinders-tls');
      const crt = (current as { data?: Record<string, string> }).data?.['tls.crt'];
      cluster.kube.replace({ ...current, data: { 'tls.crt': crt, ...(key ? { 'tls.key': key } : {}) } });
      const result = await tlsCheck();
      expect(result).toMatchObject({ status: 'fail' });
      expect(result?.detail).toContain(detail);
      expect(JSON.stringify(result)).not.toContain('bm90IGEga2V5');
    }
  });

  it('Secrets: a Secret that does not exist', async () => {
    const config = peers.config({ secrets: [{ namespace: 'platform', name: 'stripe', keys: ['api-key'] }] });
    const [missing] = byId(await run({}, config, checkById('secrets')), 'secrets');
    expect(missing?.status).toBe('fail');
    expect(missing?.detail).toContain('Secret vlinders-platform/stripe could not be read');
  });

  it('Secrets and StorageClasses the bot may not read (403) say which grant is missing', async () => {
    const cluster = await startCluster(peers.world());
    closers.push(() => cluster.close());
    cluster.kube.failNext({ path: /\/secrets\// }, { status: 403 }, 10);
    cluster.kube.failNext({ path: /\/storageclasses$/ }, { status: 403 });
    const outcomes = await runChecks([...checkById('secrets'), ...checkById('storage-class')], { kube: cluster.client, config: peers.config(), signal: new AbortController().signal, now: new Date() }, 5000);
    for (const r of byId(outcomes, 'secrets')) {
      expect(r.status).toBe('fail');
      expect(r.detail).toContain("The bot's ServiceAccount may not get secrets in namespace vlinders-platform (403 Forbidden)");
    }
    expect(byId(outcomes, 'storage-class')[0]?.detail).toContain('could not check: The bot\'s ServiceAccount may not list storageclasses.storage.k8s.io (403 Forbidden)');
  });

  it('ConfigMaps: a missing one is named', async () => {
    const config = peers.config({ configMaps: [{ namespace: 'inference', name: 'vlinders-config' }, { namespace: 'monitoring', name: 'grafana-dashboards' }] });
    const [r] = byId(await run({}, config, checkById('configmaps')), 'configmaps');
    expect(r).toMatchObject({ status: 'fail', detail: 'missing: vlinders-monitoring/grafana-dashboards' });
  });

  it('PostgreSQL: SELECT 1 through psql in postgres-0; a database that does not exist fails with psql\'s words', async () => {
    const [up] = byId(await run({}, peers.config(), checkById('postgres')), 'postgres');
    expect(up?.status).toBe('pass');
    expect(up?.detail).toMatch(/^pod vlinders-platform\/postgres-0 \(kube exec\) answered in \d+ ms$/);
    const config = peers.config();
    config.backup = { ...config.backup, database: 'vlinders_missing' };
    const [down] = byId(await run({}, config, checkById('postgres')), 'postgres');
    expect(down?.status).toBe('fail');
    expect(down?.detail).toContain('database "vlinders_missing" does not exist');
    expect(down?.fix).toContain('Is PostgreSQL Ready?');
  });

  it('Redis: a server that wants a password is up; a closed port is not', async () => {
    const locked = await startRedis({ password: 'a-long-redis-password' });
    closers.push(() => locked.close());
    const [up] = byId(await run({}, peers.config({ redis: locked.address }), checkById('redis')), 'redis');
    expect(up).toMatchObject({ status: 'pass' });
    expect(up?.detail).toContain('wants AUTH');
    const [down] = byId(await run({}, peers.config({ redis: '127.0.0.1:1' }), checkById('redis')), 'redis');
    expect(down?.status).toBe('fail');
    expect(down?.detail).toBe('Redis at 127.0.0.1:1 is unreachable (ECONNREFUSED)');
  });

  it('Qdrant: a missing collection, a yellow one, an unreachable server', async () => {
    const [missing] = byId(await run({}, peers.config({ qdrantCollection: 'documents' }), checkById('qdrant')), 'qdrant');
    expect(missing).toMatchObject({ status: 'fail', detail: 'no collection "documents" (Not found: Collection `documents` doesn\'t exist!)' });
    peers.qdrant.collections.set('indexing', { status: 'yellow', points: 10 });
    const [yellow] = byId(await run({}, peers.config({ qdrantCollection: 'indexing' }), checkById('qdrant')), 'qdrant');
    expect(yellow?.status).toBe('warn');
    const [down] = byId(await run({}, peers.config({ qdrantUrl: 'http://127.0.0.1:1' }), checkById('qdrant')), 'qdrant');
    expect(down?.status).toBe('fail');
    expect(down?.detail).toContain('Qdrant at http://127.0.0.1:1 is unreachable');
  });

  it('monitoring: Grafana stuck in ImagePullBackOff fails Grafana only', async () => {
    const results = byId(await run({ imagePullBackOff: true }, peers.config(), checkById('monitoring')), 'monitoring');
    expect(results.map((r) => r.status)).toEqual(['pass', 'fail', 'pass']);
    expect(results[1]?.detail).toBe('Deployment vlinders-monitoring/grafana 0/1 ready');
  });

  it('GPU nodes: one not Ready is a warning that names it', async () => {
    const [r] = byId(await run({ notReadyGpuNode: true }, peers.config(), checkById('gpu-nodes')), 'gpu-nodes');
    expect(r?.status).toBe('warn');
    expect(r?.detail).toContain('3/4 GPU nodes Ready');
    expect(r?.detail).toContain('not Ready: vlinders-gpu-4');
  });
});

describe('the JWT key pair', () => {
  const pem = (type: 'rsa' | 'ec', bits = 2048) =>
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
      : generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const a = pem('rsa');
  const b = pem('rsa');

  it('pairs only a private key with its own public key', () => {
    expect(checkRs256Pair(Buffer.from(a.privateKey), Buffer.from(a.publicKey))).toEqual({ ok: true, bits: 2048 });
    expect(checkRs256Pair(Buffer.from(a.privateKey), Buffer.from(b.publicKey))).toEqual({ ok: false, why: 'the public key does not belong to the private key' });
  });

  it('refuses EC keys, short RSA keys and text that is no key', () => {
    const ec = pem('ec');
    expect(checkRs256Pair(Buffer.from(ec.privateKey), Buffer.from(ec.publicKey))).toMatchObject({ ok: false, why: 'RS256 needs RSA keys (got ec and ec)' });
    const short = pem('rsa', 1024);
    expect(checkRs256Pair(Buffer.from(short.privateKey), Buffer.from(short.publicKey))).toMatchObject({ ok: false, why: 'the key has 1024 bits; RS256 needs at least 2048' });
    expect(checkRs256Pair(Buffer.from('not a key'), Buffer.from(a.publicKey))).toMatchObject({ ok: false, why: expect.stringContaining('the private key does not parse') });
  });
});

describe('the runner', () => {
  const check = (id: string, run: PreflightCheck['run'], phases = [1]): PreflightCheck => ({ id, title: id, phases, run });

  it('turns a throw into ❌ with the reason, and a hang into ❌ after the deadline, without holding up the others', async () => {
    const outcomes = await runChecks(
      [
        check('throws', async () => { throw new Error('boom'); }),
        check('hangs', ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))),
        check('fine', async () => ({ status: 'pass', detail: 'ok' })),
      ],
      { kube: undefined as never, config: peers.config(), signal: new AbortController().signal, now: new Date() },
      200,
    );
    expect(outcomes.map((o) => o.results[0])).toEqual([
      { status: 'fail', detail: 'could not check: boom' },
      { status: 'fail', detail: 'could not check: no answer within 200 ms' },
      { status: 'pass', detail: 'ok' },
    ]);
  });

  it('an aborted run checks nothing and says so; progress counts each item done', async () => {
    const stop = new AbortController();
    stop.abort();
    let ran = 0;
    const counted: string[] = [];
    const outcomes = await runChecks(
      [check('a', async () => (ran++, { status: 'pass', detail: 'ok' })), check('b', async () => (ran++, { status: 'pass', detail: 'ok' }))],
      { kube: undefined as never, config: peers.config(), signal: stop.signal, now: new Date() },
      1000,
      async (done, total) => void counted.push(`${done}/${total}`),
    );
    expect(ran).toBe(0);
    expect(outcomes.map((o) => o.results[0]?.detail)).toEqual(['could not check: stopped before it ran', 'could not check: stopped before it ran']);
    expect(counted).toEqual(['1/2', '2/2']);
  });

  it('--phase N keeps only the items that phase needs', () => {
    expect(checksFor(CHECKS, 1).map((c) => c.id)).toEqual(['kubernetes-version', 'cni', 'storage-class', 'secrets', 'configmaps']);
    expect(checksFor(CHECKS, 2).map((c) => c.id)).toEqual(['postgres', 'redis', 'qdrant']);
    expect(checksFor(CHECKS, 3).map((c) => c.id)).toEqual(['gpu-nodes', 'gpu-operator', 'model-files']);
    expect(checksFor(CHECKS, 4).map((c) => c.id)).toEqual(['dns', 'tls']);
    expect(checksFor(CHECKS, 5).map((c) => c.id)).toEqual(['monitoring']);
    expect(checksFor(CHECKS, undefined)).toHaveLength(CHECKS.length);
  });

  it('an unreachable Kubernetes API fails the cluster items with a clear message', async () => {
    const cluster = await startCluster(peers.world());
    await cluster.close();
    const outcomes = await runChecks(checkById('kubernetes-version'), { kube: cluster.client, config: peers.config(), signal: new AbortController().signal, now: new Date() }, 5000);
    expect(outcomes[0]?.results[0]?.status).toBe('fail');
    expect(outcomes[0]?.results[0]?.detail).toMatch(/could not check: The Kubernetes API is unreachable for get version on cluster test/);
  });
});
