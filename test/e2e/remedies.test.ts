// The runbook's remedies end to end: Slack emulator → real Bolt → restart / gpu-memory / contacts
// → kube-apiserver emulator, whose world rolls Deployments (deployment-controller) and recreates
// deleted Ray workers (the KubeRay controller).
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import type { Pod } from '../../src/sandbox/kube/world/objects.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from './cluster.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

type Config = ReturnType<typeof clusterConfig>;

async function setup(world: Parameters<typeof startCluster>[0], tweak: (c: Config) => void = () => {}) {
  const cluster = await startCluster(world);
  closers.push(() => cluster.close());
  const config = clusterConfig();
  config.restart.timeoutSeconds = 10;
  config.inference.rolloutTimeoutSeconds = 15;
  tweak(config);
  const bot = await startBot({ config, services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot };
}

async function approve(bot: BotHarness, text: string) {
  await bot.slash(USERS.operator, CHANNELS.ops, text);
  const card = await bot.card(CHANNELS.ops);
  await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
  return card;
}
const finished = (m: RecordedMessage) => /Done|warnings|Failed/.test(m.text);
const threadText = (bot: BotHarness, ts: string) =>
  bot.emu
    .threadOf(CHANNELS.ops, ts)
    .map((m) => [m.text, blocksText(m.blocks), ...m.updates.map((u) => u.text)].join('\n'))
    .join('\n');

const P = 'vlinders-platform';
const I = 'vlinders-inference';
const apiPods = (cluster: Awaited<ReturnType<typeof startCluster>>) =>
  (cluster.kube.list('v1', 'Pod', P) as Pod[]).filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'vlinders-api').map((p) => p.metadata.name);

describe('restart', () => {
  it('rolls every pod of the Deployment, reporting progress, and ends ✅', async () => {
    // Slow enough that progress (updated at most once a second) shows each step.
    const { cluster, bot } = await setup({ rolloutReadyDelayMs: 1500 });
    const before = apiPods(cluster);
    expect(before).toHaveLength(3);
    const card = await approve(bot, 'restart vlinders-api');
    const plan = blocksText(card.message.blocks);
    expect(plan).toContain('ghcr.io/vlinders/vlinders-api:1.8.2');
    expect(plan).toContain('3/3');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 20_000);
    expect(done.text).toMatch(/^✅ Done/);
    const thread = threadText(bot, card.message.ts);
    expect(thread).toContain('0/3 pods updated and ready');
    expect(thread).toContain('1/3 pods updated and ready');
    expect(thread).toContain('2/3 pods updated and ready');
    expect(thread).toContain('3/3 pods updated and ready');
    const after = apiPods(cluster);
    expect(after).toHaveLength(3);
    for (const old of before) expect(after).not.toContain(old);
    const d = cluster.kube.get('apps/v1', 'Deployment', P, 'vlinders-api');
    const status = d?.status as { observedGeneration: number; updatedReplicas: number; readyReplicas: number; availableReplicas: number };
    expect(status).toMatchObject({ observedGeneration: d?.metadata.generation, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    const template = (d?.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
    expect(template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('a rollout whose new pods crash ends ⚠️ and names them and why', async () => {
    const { cluster, bot } = await setup({ rolloutReadyDelayMs: 100, crashingRollouts: ['vlinders-api'] }, (c) => {
      c.restart.timeoutSeconds = 5;
    });
    const before = apiPods(cluster);
    const card = await approve(bot, 'restart vlinders-api');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 20_000);
    expect(done.text).toMatch(/^⚠️/);
    const report = threadText(bot, card.message.ts);
    expect(report).toContain('Pods not Ready');
    expect(report).toContain('CrashLoopBackOff');
    const crashing = apiPods(cluster).filter((p) => !before.includes(p));
    expect(crashing).toHaveLength(1);
    expect(report).toContain(crashing[0]);
    // maxUnavailable 0: the old pods keep serving.
    expect(apiPods(cluster).filter((p) => before.includes(p))).toHaveLength(3);
  });

  it('a concurrent edit after the plan fails cleanly (409), changing nothing', async () => {
    const { cluster, bot } = await setup({});
    await bot.slash(USERS.operator, CHANNELS.ops, 'restart vlinders-api');
    const card = await bot.card(CHANNELS.ops);
    const d = cluster.kube.get('apps/v1', 'Deployment', P, 'vlinders-api');
    if (!d) throw new Error('no deployment');
    (d.metadata.labels ??= {}).edited = 'by-kubectl';
    cluster.kube.replace(d);
    const before = apiPods(cluster);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 10_000);
    expect(done.text).toMatch(/^❌ Failed/);
    expect(threadText(bot, card.message.ts)).toContain('Someone else changed deployments.apps/vlinders-api');
    const after = cluster.kube.get('apps/v1', 'Deployment', P, 'vlinders-api');
    expect((after?.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    expect(apiPods(cluster)).toEqual(before);
  });

  it('a viewer is denied; a namespace outside Vlinders is refused', async () => {
    const { bot } = await setup({});
    await bot.slash(USERS.viewer, CHANNELS.ops, 'restart vlinders-api');
    await bot.slash(USERS.operator, CHANNELS.ops, 'restart coredns --namespace kube-system');
    const texts = await bot.emu.waitFor(() => (bot.emu.ephemerals.length >= 2 ? bot.emu.ephemerals.map((e) => e.text) : undefined));
    expect(texts).toEqual(
      expect.arrayContaining([expect.stringContaining('`restart` needs the operator role; you are viewer here.'), expect.stringContaining('only works in the Vlinders namespaces')]),
    );
    expect(bot.emu.messages).toHaveLength(0);
  });
});

describe('gpu-memory', () => {
  const setting = (cluster: Awaited<ReturnType<typeof startCluster>>) => (cluster.kube.get('v1', 'ConfigMap', I, 'vlinders-config')?.data as Record<string, string>).gpu_memory_utilization;

  it('0.99 is refused with the allowed range, before anything is touched', async () => {
    const { cluster, bot } = await setup({});
    const rv = cluster.kube.get('v1', 'ConfigMap', I, 'vlinders-config')?.metadata.resourceVersion;
    await bot.slash(USERS.operator, CHANNELS.ops, 'gpu-memory 0.99');
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals[0]);
    expect(e.text).toContain('0.99 is outside the allowed range 0.5–0.95');
    expect(bot.emu.messages).toHaveLength(0);
    expect(setting(cluster)).toBe('0.9');
    expect(cluster.kube.get('v1', 'ConfigMap', I, 'vlinders-config')?.metadata.resourceVersion).toBe(rv);
  });

  it('0.85 sets the ConfigMap, restarts every worker one at a time, and ends ✅ with them Ready', async () => {
    const { cluster, bot } = await setup({ workers: 3, readyDelayMs: 300 });
    const before = cluster.world.cluster.ray.workers;
    const card = await approve(bot, 'gpu-memory 0.85');
    expect(blocksText(card.message.blocks)).toContain('0.9 → 0.85');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 25_000);
    expect(done.text).toMatch(/^✅ Done/);
    expect(setting(cluster)).toBe('0.85');
    const thread = threadText(bot, card.message.ts);
    expect(thread).toContain('Worker 3/3 restarted');
    expect(thread).toContain('3/3 workers Ready');
    const workers = (cluster.kube.list('v1', 'Pod', I) as Pod[]).filter((p) => p.metadata.labels?.['ray.io/node-type'] === 'worker');
    expect(workers).toHaveLength(3);
    for (const w of workers) {
      expect(before).not.toContain(w.metadata.name);
      expect(w.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).toBe(true);
    }
  });

  it('a concurrent edit of the ConfigMap after the plan fails cleanly, changing nothing', async () => {
    const { cluster, bot } = await setup({ workers: 3 });
    await bot.slash(USERS.operator, CHANNELS.ops, 'gpu-memory 0.85');
    const card = await bot.card(CHANNELS.ops);
    const cm = cluster.kube.get('v1', 'ConfigMap', I, 'vlinders-config');
    if (!cm) throw new Error('no configmap');
    (cm.data as Record<string, string>).gpu_memory_utilization = '0.8';
    cluster.kube.replace(cm);
    const workers = cluster.world.cluster.ray.workers;
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 10_000);
    expect(done.text).toMatch(/^❌ Failed/);
    expect(threadText(bot, card.message.ts)).toContain('changed after the plan was shown');
    expect(setting(cluster)).toBe('0.8');
    const now = (cluster.kube.list('v1', 'Pod', I) as Pod[]).filter((p) => p.metadata.labels?.['ray.io/node-type'] === 'worker').map((p) => p.metadata.name);
    expect(now.sort()).toEqual([...workers].sort());
  });

  it('when the workers never come back it restores the old value and says so', async () => {
    // 4 GPU nodes and 3 workers: a deleted worker is recreated, but with GPUs taken by a
    // squatter pod it stays Pending.
    const { cluster, bot } = await setup({ workers: 3, gpuNodes: 3, readyDelayMs: 100 }, (c) => {
      c.inference.rolloutTimeoutSeconds = 5;
    });
    await bot.slash(USERS.operator, CHANNELS.ops, 'gpu-memory 0.85');
    const card = await bot.card(CHANNELS.ops);
    // Something else grabs GPUs, so a replacement worker can't be scheduled.
    const first = cluster.world.cluster.ray.workers[0] as string;
    const node = (cluster.kube.get('v1', 'Pod', I, first) as Pod).spec.nodeName as string;
    cluster.kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'squatter', namespace: 'default' },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'cuda:12', resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running' },
    });
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 25_000);
    expect(done.text).toMatch(/^❌ Failed/);
    const thread = threadText(bot, card.message.ts);
    expect(thread).toContain('Restored gpu_memory_utilization to 0.9');
    expect(setting(cluster)).toBe('0.9');
  });
});

describe('contacts', () => {
  it('lists the emergency contacts and the on-call group', async () => {
    const { bot } = await setup({}, (c) => {
      c.contacts = [
        { name: 'Anna de Vries', role: 'Platform lead', slack: 'U0ANNA001', phone: '+31 20 555 0101', email: 'anna@vlinders.example' },
        { name: 'Joris Bakker', role: 'Database owner', phone: '+31 20 555 0102' },
      ];
      c.oncall = { group: 'S0ONCALL1', rota: 'https://vlinders.pagerduty.example/schedules/P123' };
    });
    await bot.slash(USERS.viewer, CHANNELS.general, 'contacts');
    const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.general && blocksText(m.blocks).includes('Emergency contacts')));
    const text = blocksText(message.blocks);
    for (const s of ['Anna de Vries', 'Platform lead', 'U0ANNA001', '+31 20 555 0101', 'anna@vlinders.example', 'Joris Bakker', 'Database owner', 'S0ONCALL1', 'pagerduty']) expect(text).toContain(s);
  });
});
