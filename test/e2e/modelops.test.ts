// model update and loadtest end to end: Slack emulator → real Bolt → command → the cluster
// emulator (model and k6 Jobs run their work) and the Ray dashboard stub; assertions on what
// was posted in Slack and on the state left behind.
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import { RayDashboardStub, defaultServeApp } from '../../src/sandbox/ray/dashboard-stub.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { I, SEEDED_MODEL, opsConfig, settledLeftovers, type OpsConfig } from '../models/ops-world.js';
import { startCluster } from './cluster.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const NEW = 'mistralai/Mistral-7B-Instruct-v0.3';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(world: WorldOptions = {}, stubOpts: Parameters<typeof RayDashboardStub.start>[0] = {}, tweak: (c: OpsConfig) => void = () => {}) {
  const cluster = await startCluster({ jobRunMs: 50, ...world });
  closers.push(() => cluster.close());
  const stub = await RayDashboardStub.start({ deployMs: 100, ...stubOpts });
  closers.push(() => stub.close());
  const bot = await startBot({ config: opsConfig(stub, tweak), services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, stub, bot };
}

async function approve(bot: BotHarness, user: string, text: string) {
  await bot.slash(user, CHANNELS.ops, text);
  const card = await bot.card(CHANNELS.ops);
  await bot.click(user, CHANNELS.ops, card.message.ts, 'vlinders_approve');
  return card;
}
const finished = (m: RecordedMessage) => /Done|warnings|Failed/.test(m.text);
const threadText = (bot: BotHarness, ts: string) =>
  bot.emu
    .threadOf(CHANNELS.ops, ts)
    .map((m) => [m.text, blocksText(m.blocks), ...m.updates.map((u) => `${u.text}\n${blocksText(u.blocks)}`)].join('\n'))
    .join('\n');
const everything = (bot: BotHarness) =>
  [...bot.emu.messages.flatMap((m) => [m.text, blocksText(m.blocks), ...m.updates.map((u) => `${u.text}\n${blocksText(u.blocks)}`)]), ...bot.emu.ephemerals.map((e) => `${e.text}${blocksText(e.blocks)}`), bot.log.text()].join('\n');
const modelOf = (cluster: Awaited<ReturnType<typeof startCluster>>) => (cluster.kube.get('v1', 'ConfigMap', I, 'vlinders-config')?.data as Record<string, string>).model;

describe('model update through Slack', () => {
  it('approve → every step in the thread → ✅ with the new model served and listed', async () => {
    const { cluster, stub, bot } = await setup();
    const card = await approve(bot, USERS.admin, `model update ${NEW}`);
    const plan = blocksText(card.message.blocks);
    expect(plan).toContain(`${SEEDED_MODEL} → ${NEW}`);
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 30_000);
    expect(done.text).toMatch(/^✅ Done/);
    const thread = threadText(bot, card.message.ts);
    for (const step of ['download', 'verify checksums', 'patch ConfigMap', 'redeploy Ray Serve', 'wait until serving']) expect(thread).toContain(`✅ ${step}`);
    expect(thread).toContain(`/v1/models lists ${NEW}`);
    expect(modelOf(cluster)).toBe(NEW);
    expect(stub.servedModels()).toEqual([NEW]);
    expect(await settledLeftovers(cluster)).toEqual([]);
  });

  it('a deploy that fails is rolled back, and the thread says so', async () => {
    const { cluster, stub, bot } = await setup();
    const before = stub.appConfig('vlinders-llm');
    stub.switches.failModel = NEW;
    const card = await approve(bot, USERS.admin, `model update ${NEW}`);
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 30_000);
    expect(done.text).toMatch(/^❌ Failed/);
    const thread = threadText(bot, card.message.ts);
    expect(thread).toContain('❌ wait until serving');
    expect(thread).toContain(`Restored model in ConfigMap ${I}/vlinders-config to ${SEEDED_MODEL}`);
    expect(thread).toContain('Redeployed the previous Ray Serve config');
    expect(modelOf(cluster)).toBe(SEEDED_MODEL);
    expect(stub.appConfig('vlinders-llm')).toEqual(before);
    expect(stub.servedModels()).toEqual([SEEDED_MODEL]);
  });

  it('an operator is told it needs admin; nothing is posted or run', async () => {
    const { cluster, bot } = await setup();
    await bot.slash(USERS.operator, CHANNELS.ops, `model update ${NEW}`);
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals[0]);
    expect(e.text).toContain('`model update` needs the admin role');
    expect(bot.emu.messages).toHaveLength(0);
    expect(cluster.kube.list('batch/v1', 'Job', I)).toEqual([]);
  });
});

describe('loadtest through Slack', () => {
  it('a summary that misses the runbook thresholds ends ❌ with measured values beside targets', async () => {
    const { cluster, bot } = await setup({ k6: { p95Ms: 812.3, errorRate: 0.031, rps: 1210 } });
    const card = await approve(bot, USERS.operator, 'loadtest --vus 20 --duration 1m');
    expect(blocksText(card.message.blocks)).toContain('20 virtual users for 1m');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 30_000);
    expect(done.text).toMatch(/^❌ Failed/);
    const thread = threadText(bot, card.message.ts);
    expect(thread).toContain('1/3 thresholds met');
    // Slack's mrkdwn escapes < and >.
    expect(thread).toMatch(/P95 latency \(http_req_duration\) +&lt; 500 ms +812\.3 ms +❌ FAIL/);
    expect(thread).toMatch(/Error rate \(http_req_failed\) +&lt; 1 % +3\.1 % +❌ FAIL/);
    expect(thread).toMatch(/Throughput \(http_reqs\) +&gt; 1,000 req\/s +1,210 req\/s +✅ pass/);
    expect(await settledLeftovers(cluster)).toEqual([]);
  });
});

describe('secrets', () => {
  it('no seeded secret value appears in anything model update or loadtest posted or logged', async () => {
    const TOKEN = 'hf_VGhpc0lzQVNlZWRlZEh1YlRva2VuNDI';
    const PG = 'pg-Pa55w0rd-seeded';
    const { cluster, bot } = await setup(
      { models: { failDownload: true } },
      { applications: [{ ...defaultServeApp(SEEDED_MODEL), runtime_env: { env_vars: { MODEL_ID: SEEDED_MODEL, HUGGING_FACE_HUB_TOKEN: TOKEN, DATABASE_URL: `postgresql://vlinders:${PG}@postgres:5432/vlinders` } } }] },
      (c) => void (c.models.tokenSecret = { name: 'hf-secret', key: 'token' }),
    );
    cluster.kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hf-secret', namespace: I }, type: 'Opaque', data: { token: Buffer.from(TOKEN).toString('base64') } });
    const secrets = [TOKEN, PG, ...cluster.kube.list('v1', 'Secret').flatMap((s) => Object.values((s.data as Record<string, string> | undefined) ?? {}).flatMap((b64) => [b64, Buffer.from(b64, 'base64').toString('utf8')]))];
    const update = await approve(bot, USERS.admin, `model update ${NEW}`);
    await bot.emu.waitFor(() => (finished(update.message) ? update.message : undefined), 30_000);
    expect(threadText(bot, update.message.ts)).toContain('Bearer [REDACTED]');
    const load = await approve(bot, USERS.operator, 'loadtest --duration 30s');
    await bot.emu.waitFor(() => (finished(load.message) ? load.message : undefined), 30_000);
    const all = everything(bot);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
