// preflight and verify end to end: Slack emulator → real Bolt → the commands → the seeded
// cluster in the kube-apiserver emulator, a real redis-server, the Qdrant and platform API
// stubs. And the secret scan: nothing either command posts or logs holds a seeded secret value.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformApi, type PlatformApiStub } from '../../src/sandbox/platform-api/server.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { startPlatformPeers, type PlatformPeers } from '../preflight/world.js';
import { startCluster } from './cluster.js';
import { blocksText, startBot, type BotHarness } from './harness.js';
import { everything, secretValues } from './secrets.js';

let peers: PlatformPeers;
let api: PlatformApiStub;
beforeAll(async () => {
  peers = await startPlatformPeers();
  api = await startPlatformApi();
});
afterAll(async () => {
  await peers.close();
  await api.close();
});
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  // The stub holds this very object: empty it, don't replace it.
  for (const step of Object.keys(api.fail) as Array<keyof typeof api.fail>) delete api.fail[step];
});

async function setup(world: WorldOptions = {}) {
  const cluster = await startCluster(peers.world(world));
  closers.push(() => cluster.close());
  const serve = await startPlatformApi({ requireAuth: false });
  closers.push(() => serve.close());
  const bot = await startBot({ config: peers.config({ apiUrl: api.url, rayServeUrl: serve.url }), services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot };
}

/** The report a read command posted in a channel, with its title: its whole rendered text. */
async function reportIn(bot: BotHarness, channel: string, title: string): Promise<string> {
  const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === channel && blocksText(m.blocks).includes(title)), 15_000);
  return blocksText(message.blocks);
}


describe('preflight', () => {
  it('passes on the seeded cluster, every item ✅', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.viewer, CHANNELS.general, 'preflight');
    const text = await reportIn(bot, CHANNELS.general, 'preflight · test');
    expect(text).toContain('✅ preflight');
    expect(text).toMatch(/\d+ passed, 0 warnings, 0 failed/);
    for (const item of ['Kubernetes version', 'GPU nodes', 'NVIDIA GPU Operator', 'CNI (Calico or Cilium)', 'Storage class', 'API domain in DNS', 'TLS certificate', 'Secrets', 'ConfigMaps', 'PostgreSQL SELECT 1', 'Redis PING', 'Qdrant collection', 'Monitoring']) {
      expect(text).toContain(`✅ ${item} —`);
    }
    expect(text).not.toMatch(/❌|⚠️ /);
  });

  it('an expired certificate is ❌ with how to fix it; --phase 4 checks DNS and TLS only', async () => {
    const { bot } = await setup({ expiredCertificate: true });
    await bot.slash(USERS.viewer, CHANNELS.general, 'preflight --phase 4');
    const text = await reportIn(bot, CHANNELS.general, 'preflight phase 4');
    expect(text).toContain('❌ preflight phase 4');
    expect(text).toContain('✅ API domain in DNS — localhost');
    expect(text).toMatch(/❌ TLS certificate — Secret vlinders-platform\/vlinders-tls expired on \d{4}-\d{2}-\d{2}/);
    expect(text).toContain('↳ Renew the certificate for localhost and replace Secret vlinders-platform/vlinders-tls.');
    expect(text).not.toContain('Redis PING');
  });

  it('a phase out of range is a usage error and nothing runs', async () => {
    const { cluster, bot } = await setup();
    const before = cluster.kube.requests.length;
    await bot.slash(USERS.viewer, CHANNELS.general, 'preflight --phase 9');
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals[0]);
    expect(e.text).toContain('phases run 1–5');
    expect(e.text).toContain('preflight [--phase N] [--cluster NAME]');
    expect(cluster.kube.requests.length).toBe(before);
  });
});

describe('verify', () => {
  it('health, then the smoke tests with latencies; the throwaway user is gone afterwards', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.operator, CHANNELS.ops, 'verify');
    const text = await reportIn(bot, CHANNELS.ops, 'Smoke tests');
    expect(text).toContain('✅ verify · test');
    for (const line of [/✅ Health — Pods: \d+ Running and Ready/, /✅ Health — PVCs: \d+ Bound/, /✅ Health — GPU nodes: 4 Ready/, /✅ Service endpoints — \d+ Services each have Ready endpoints/]) expect(text).toMatch(line);
    for (const step of ['register a throwaway user', 'log in', 'GET /v1/models', 'POST /v1/chat/completions', 'delete the throwaway user']) {
      expect(text).toMatch(new RegExp(`✅ ${step.replace(/[/.]/g, '\\$&')} — .*\\(\\d+ ms\\)`));
    }
    expect(api.users.size).toBe(0);
  });

  it('a failing chat completion shows the status and a redacted body, and the user is still removed', async () => {
    const { bot } = await setup();
    api.fail.chat = { status: 500, body: { detail: 'CUDA out of memory', request: { headers: { authorization: 'Bearer abcdefghijklmnop1234' } } } };
    await bot.slash(USERS.operator, CHANNELS.ops, 'verify');
    const text = await reportIn(bot, CHANNELS.ops, 'Smoke tests');
    expect(text).toContain('❌ verify · test');
    expect(text).toMatch(/❌ POST \/v1\/chat\/completions — POST \/v1\/chat\/completions: HTTP 500 in \d+ ms: .*CUDA out of memory/);
    expect(text).not.toContain('abcdefghijklmnop1234');
    expect(text).toContain('✅ delete the throwaway user');
    expect(api.users.size).toBe(0);
  });

  it('--phase 1 checks namespaces, Secrets, ConfigMaps and PVCs', async () => {
    const { bot } = await setup({ missingSecretKey: 'internal-secret' });
    await bot.slash(USERS.operator, CHANNELS.ops, 'verify --phase 1');
    const text = await reportIn(bot, CHANNELS.ops, 'verify phase 1');
    expect(text).toContain('✅ Namespaces — vlinders-platform Active');
    expect(text).toContain('❌ Secrets — Secret vlinders-platform/vlinders-secrets lacks internal-secret');
    expect(text).toMatch(/✅ PVCs Bound — \d+ PVCs Bound/);
  });

  it('needs the operator role', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.viewer, CHANNELS.general, 'verify');
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals[0]);
    expect(e.text).toContain('needs the operator role');
  });
});

describe('the secret scan', () => {
  it('finds no seeded secret value in anything preflight or verify posted or logged, broken or not', async () => {
    const { cluster, bot } = await setup({ missingSecretKey: 'stripe-secret-key', expiredCertificate: true });
    api.fail.models = { status: 401, body: { detail: 'bad token', token: 'leaked-in-a-body-0123456789' } };
    for (const text of ['preflight', 'preflight --phase 1', 'preflight --phase 4']) await bot.slash(USERS.viewer, CHANNELS.general, text);
    for (const text of ['verify', 'verify --phase 1', 'verify --phase 2']) await bot.slash(USERS.operator, CHANNELS.ops, text);
    // Reports are posted once complete: wait for all six.
    await bot.emu.waitFor(() => (bot.emu.messages.filter((m) => /^(✅|❌|⚠️) (preflight|verify)/.test(m.text)).length === 6 ? true : undefined), 20_000);
    const said = everything(bot);
    expect(said).toContain('lacks stripe-secret-key');
    const values = secretValues(cluster.kube);
    expect(values.length).toBeGreaterThan(20);
    for (const value of values) expect(said.includes(value), `a secret value leaked: ${value.slice(0, 8)}…`).toBe(false);
    expect(said).not.toContain('leaked-in-a-body-0123456789');
  });
});
