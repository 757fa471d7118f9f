// node cordon, uncordon and drain: Slack emulator → real Bolt → commands → the kube-apiserver
// emulator, whose Eviction API and PodDisruptionBudgets are held to the real kubectl drain in
// test/sandbox/kube-eviction.test.ts. The drain world: 3 GPU nodes of 2 GPUs, 5 Ray workers
// (two on vlinders-gpu-2, one GPU free on vlinders-gpu-3) and a budget over the workers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startClusterWithBot } from './cluster.js';
import { blocksText, type BotHarness } from './harness.js';

const I = 'vlinders-inference';
/** The bot's own state (pending actions, locks) in ConfigMaps of its namespace: not the operation under test. */
const BOT_STATE = /^(create|get|update|delete) \/api\/v1\/namespaces\/vlinders-ops\/configmaps(\/|$)/;
const READS = /^(get|list|watch) /;
const DRAIN_WORLD = { gpuNodes: 3, gpusPerNode: 2, workers: 5, maxWorkers: 8, workerPdb: { minAvailable: 4 } };

const finished = (m: RecordedMessage) => /^(✅|⚠️|❌)/.test(m.text);
const threadText = (bot: BotHarness, ts: string) =>
  bot.emu
    .threadOf(CHANNELS.ops, ts)
    .map((m) => [m.text, blocksText(m.blocks), ...m.updates.map((u) => u.text)].join('\n'))
    .join('\n');
const isCordoned = (cluster: Awaited<ReturnType<typeof startClusterWithBot>>['cluster'], node: string) =>
  (cluster.kube.get('v1', 'Node', undefined, node)?.spec as { unschedulable?: boolean }).unschedulable === true;
const podsOn = (cluster: Awaited<ReturnType<typeof startClusterWithBot>>['cluster'], node: string) =>
  cluster.kube.list('v1', 'Pod').filter((p) => (p.spec as { nodeName?: string }).nodeName === node);
const workersOn = (cluster: Awaited<ReturnType<typeof startClusterWithBot>>['cluster'], node: string) =>
  podsOn(cluster, node).filter((p) => p.metadata.labels?.['ray.io/node-type'] === 'worker' && !p.metadata.deletionTimestamp).map((p) => p.metadata.name);

async function ephemeral(bot: BotHarness, user: string, count = 1): Promise<string> {
  const mine = await bot.emu.waitFor(() => {
    const texts = bot.emu.ephemerals.filter((e) => e.user === user);
    return texts.length >= count ? texts : undefined;
  });
  return mine.at(-1)?.text ?? '';
}

/** A drain asked by an admin and approved by the approver (two people); its card and the finished root. */
async function approvedDrain(bot: BotHarness, text: string) {
  await bot.slash(USERS.admin, CHANNELS.ops, text);
  const card = await bot.card(CHANNELS.ops);
  await bot.click(USERS.approver, CHANNELS.ops, card.message.ts, 'vlinders_approve');
  const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 20_000);
  return { card, done, thread: threadText(bot, card.message.ts) };
}

describe('node cordon and uncordon, and what is refused', () => {
  const closers: Array<() => Promise<void>> = [];
  let setup: Awaited<ReturnType<typeof startClusterWithBot>>;
  beforeAll(async () => {
    setup = await startClusterWithBot(closers, { gpuNodes: 3, workers: 2 });
  });
  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterEach(() => setup.bot.emu.ephemerals.splice(0));

  it('an operator cordons after Approve (one patch of spec.unschedulable), and uncordons the same way', async () => {
    const { cluster, bot } = setup;
    const mark = cluster.kube.mark();
    await bot.slash(USERS.operator, CHANNELS.ops, 'node cordon vlinders-gpu-2');
    const card = await bot.card(CHANNELS.ops);
    expect(blocksText(card.message.blocks)).toContain('Marks node vlinders-gpu-2 unschedulable');
    expect(isCordoned(cluster, 'vlinders-gpu-2')).toBe(false);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 10_000);
    expect(done.text).toMatch(/^✅/);
    expect(isCordoned(cluster, 'vlinders-gpu-2')).toBe(true);
    cluster.kube.expectCalls(['patch /api/v1/nodes/vlinders-gpu-2'], { since: mark, ignore: [READS, BOT_STATE] });

    await bot.slash(USERS.operator, CHANNELS.ops, 'node cordon vlinders-gpu-2');
    expect(await ephemeral(bot, USERS.operator)).toContain('Node vlinders-gpu-2 is already cordoned; nothing to change.');

    const again = cluster.kube.mark();
    await bot.slash(USERS.operator, CHANNELS.ops, 'node uncordon vlinders-gpu-2');
    const uncordon = await bot.card(CHANNELS.ops);
    expect(uncordon.message.ts).not.toBe(card.message.ts);
    await bot.click(USERS.operator, CHANNELS.ops, uncordon.message.ts, 'vlinders_approve');
    await bot.emu.waitFor(() => (finished(uncordon.message) ? uncordon.message : undefined), 10_000);
    expect(cluster.kube.get('v1', 'Node', undefined, 'vlinders-gpu-2')?.spec).not.toHaveProperty('unschedulable');
    cluster.kube.expectCalls(['patch /api/v1/nodes/vlinders-gpu-2'], { since: again, ignore: [READS, BOT_STATE] });
  });

  it('a viewer can’t cordon; an operator can’t drain', async () => {
    const { bot } = setup;
    await bot.slash(USERS.viewer, CHANNELS.ops, 'node cordon vlinders-gpu-2');
    expect(await ephemeral(bot, USERS.viewer)).toContain('`node cordon` needs the operator role; you are viewer here.');
    await bot.slash(USERS.operator, CHANNELS.ops, 'node drain vlinders-gpu-2');
    expect(await ephemeral(bot, USERS.operator)).toContain('`node drain` needs the admin role; you are operator here.');
    expect(bot.emu.messages.filter((m) => blocksText(m.blocks).includes('vlinders_approve') && blocksText(m.blocks).includes('node drain'))).toEqual([]);
  });

  it('a name that is not a DNS-1123 name is refused before any call; a node that doesn’t exist is named', async () => {
    const { cluster, bot } = setup;
    const mark = cluster.kube.mark();
    await bot.slash(USERS.operator, CHANNELS.ops, 'node cordon GPU_Node-2');
    const bad = await ephemeral(bot, USERS.operator);
    expect(bad).toContain('expected a node name (DNS-1123: lower-case letters, digits, - and .)');
    expect(bad).toContain('Usage: `node cordon &lt;node&gt; [--cluster NAME]`');
    expect(cluster.kube.calls(mark).filter((c) => c.includes('/nodes'))).toEqual([]);
    await bot.slash(USERS.operator, CHANNELS.ops, 'node cordon vlinders-gpu-9');
    expect(await ephemeral(bot, USERS.operator, 2)).toContain('There is no node "vlinders-gpu-9" on cluster test. `status` lists the nodes.');
    await bot.slash(USERS.admin, CHANNELS.ops, 'node drain vlinders-gpu-2 --timeout soon');
    expect(await ephemeral(bot, USERS.admin)).toContain('--timeout "soon" is not a duration');
  });

  it('a drain of a cordoned node with only DaemonSet pods left has nothing to do', async () => {
    const { cluster, bot } = setup;
    const node = cluster.kube.get('v1', 'Node', undefined, 'vlinders-gpu-3');
    if (!node) throw new Error('no vlinders-gpu-3');
    expect(workersOn(cluster, 'vlinders-gpu-3')).toEqual([]);
    cluster.kube.replace({ ...node, spec: { ...node.spec, unschedulable: true } });
    try {
      await bot.slash(USERS.admin, CHANNELS.ops, 'node drain vlinders-gpu-3');
      expect(await ephemeral(bot, USERS.admin)).toContain('Node vlinders-gpu-3 is cordoned and has no pods to evict; nothing to change.');
    } finally {
      const now = cluster.kube.get('v1', 'Node', undefined, 'vlinders-gpu-3');
      if (now) cluster.kube.replace({ ...now, spec: { ...now.spec, unschedulable: false } });
    }
  });

  it('an unreachable API is reported, naming the call, and nothing is changed', async () => {
    const { cluster, bot } = setup;
    cluster.kube.failNext({ method: 'GET', path: /^\/api\/v1\/nodes\/vlinders-gpu-3$/ }, 'reset');
    const mark = cluster.kube.mark();
    await bot.slash(USERS.operator, CHANNELS.ops, 'node cordon vlinders-gpu-3');
    const report = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('unreachable')));
    expect(blocksText(report.blocks)).toContain('The Kubernetes API is unreachable for get nodes/vlinders-gpu-3 on cluster test');
    expect(blocksText(report.blocks)).not.toContain('vlinders_approve');
    expect(cluster.kube.calls(mark).filter((c) => c.startsWith('patch'))).toEqual([]);
    expect(isCordoned(cluster, 'vlinders-gpu-3')).toBe(false);
  });
});

describe('node drain', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('on the broken world: cordons, evicts vlinders-gpu-2’s pods through the Eviction API and stops at the PodDisruptionBudget, naming what is left', async () => {
    // Replacement workers never turn Ready here, so the budget never frees a second disruption.
    const { cluster, bot } = await startClusterWithBot(closers, { ...DRAIN_WORLD, readyDelayMs: 60_000 });
    const workers = workersOn(cluster, 'vlinders-gpu-2');
    expect(workers).toHaveLength(2);
    // A static pod's mirror, as the kubelet posts it: the API can't remove it, so a drain leaves it.
    cluster.kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'kube-proxy-vlinders-gpu-2', namespace: 'kube-system', annotations: { 'kubernetes.io/config.mirror': '5c1f0e2a9b7d' } },
      spec: { nodeName: 'vlinders-gpu-2', containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.34.2' }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const daemons = podsOn(cluster, 'vlinders-gpu-2').filter((p) => p.metadata.ownerReferences?.[0]?.kind === 'DaemonSet').map((p) => p.metadata.name);
    expect(daemons.length).toBeGreaterThan(0);
    const mark = cluster.kube.mark();

    // Destructive: the admin who asked can't approve it alone.
    await bot.slash(USERS.admin, CHANNELS.ops, 'node drain vlinders-gpu-2 --timeout 3s');
    const card = await bot.card(CHANNELS.ops);
    const plan = blocksText(card.message.blocks);
    for (const w of workers) expect(plan).toContain(`${I}/${w}`);
    expect(plan).toContain(`${I}/vlinders-ray-workers (1 disruption allowed now)`);
    for (const d of [...daemons, 'kube-proxy-vlinders-gpu-2']) expect(plan).not.toContain(d);
    expect(plan).toContain('DaemonSet pods (3) and mirror pods (1) stay');
    await bot.click(USERS.admin, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    expect(await ephemeral(bot, USERS.admin)).toMatch(/second person/);
    expect(isCordoned(cluster, 'vlinders-gpu-2')).toBe(false);

    await bot.click(USERS.approver, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 20_000);
    const thread = threadText(bot, card.message.ts);
    expect(done.text, thread).toMatch(/^⚠️/);
    expect(thread).toContain(`1/2 pods evicted; 1 pod waiting on PodDisruptionBudget ${I}/vlinders-ray-workers`);
    expect(thread).toContain('The drain of vlinders-gpu-2 stopped after 3s: 1/2 pods evicted, 1 left. vlinders-gpu-2 stays cordoned');
    expect(thread).toContain('The disruption budget vlinders-ray-workers needs 4 healthy pods and has 4 currently');
    const left = workersOn(cluster, 'vlinders-gpu-2');
    expect(left).toHaveLength(1);
    expect(thread).toContain(`${I}/${left[0]}`);
    expect(isCordoned(cluster, 'vlinders-gpu-2')).toBe(true);
    const stayed = podsOn(cluster, 'vlinders-gpu-2').map((p) => p.metadata.name);
    for (const d of [...daemons, 'kube-proxy-vlinders-gpu-2']) expect(stayed).toContain(d);

    // Only the Eviction API moved pods: one cordon, evictions of exactly the two workers (the held one retried), no DELETE.
    const [first, second] = workers as [string, string];
    cluster.kube.expectCalls(
      [
        'patch /api/v1/nodes/vlinders-gpu-2',
        { call: `create /api/v1/namespaces/${I}/pods/${first}/eviction`, times: 'some' },
        { call: `create /api/v1/namespaces/${I}/pods/${second}/eviction`, times: 'some' },
      ],
      { since: mark, ignore: [READS, BOT_STATE] },
    );
    const evictions = cluster.kube.requests.slice(mark).filter((r) => r.path.endsWith('/eviction'));
    expect(evictions.filter((r) => r.status === 201)).toHaveLength(1);
    expect(evictions.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('retries an eviction the budget holds back until the replacement worker is Ready elsewhere, then finishes', async () => {
    const { cluster, bot } = await startClusterWithBot(closers, { ...DRAIN_WORLD, readyDelayMs: 300 });
    const workers = workersOn(cluster, 'vlinders-gpu-2');
    const mark = cluster.kube.mark();
    const { done, thread } = await approvedDrain(bot, 'node drain vlinders-gpu-2 --timeout 20s');
    expect(done.text, thread).toMatch(/^✅/);
    expect(thread).toContain('Drained vlinders-gpu-2: 2 pods evicted.');
    // The budget allowed one at a time: a 429 first, then the retry went through once the replacement was Ready.
    const evictions = cluster.kube.requests.slice(mark).filter((r) => r.path.endsWith('/eviction')).map((r) => r.status);
    expect(evictions).toContain(429);
    expect(evictions.filter((status) => status === 201)).toHaveLength(2);
    expect(evictions.at(-1)).toBe(201);
    expect(workersOn(cluster, 'vlinders-gpu-2')).toEqual([]);
    for (const w of workers) expect(cluster.kube.get('v1', 'Pod', I, w)).toBeUndefined();
  }, 40_000);

  it('on a NotReady node: evicts, then says the pods stay Terminating there instead of waiting out its timeout; force-deletes nothing', async () => {
    const { cluster, bot } = await startClusterWithBot(closers, { gpuNodes: 3, gpusPerNode: 2, workers: 5, maxWorkers: 8 });
    const dead = 'vlinders-gpu-2';
    const workers = workersOn(cluster, dead);
    expect(workers).toHaveLength(2);
    // Its kubelet stops posting status (a GPU node that died): the node controller marks it Unknown.
    const lost = cluster.kube.get('v1', 'Node', undefined, dead);
    const status = lost?.status as { conditions: Array<Record<string, string>> };
    status.conditions = status.conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : c));
    cluster.kube.replace({ ...lost!, status });
    const mark = cluster.kube.mark();
    await bot.slash(USERS.admin, CHANNELS.ops, `node drain ${dead}`);
    const card = await bot.card(CHANNELS.ops);
    expect(blocksText(card.message.blocks)).toContain(`${dead} is not Ready: its kubelet can't stop the evicted pods`);
    await bot.click(USERS.approver, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const started = Date.now();
    // The default timeout is 5m: finishing well inside this wait is the point.
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 15_000);
    const thread = threadText(bot, card.message.ts);
    expect(done.text, thread).toMatch(/^⚠️/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(thread).toContain(`${dead} is not Ready (its kubelet is unreachable): 0/${workers.length} pods are gone`);
    for (const w of workers) expect(thread).toContain(`${I}/${w}`);
    expect(thread).toContain(`they stay Terminating until ${dead} is Ready again or its Node object is deleted`);
    expect(thread).toContain(`\`kubectl delete node ${dead}\``);
    expect(thread).not.toContain('Drained');
    // Still there, Terminating: evicted through the API, never force-deleted.
    for (const w of workers) expect(cluster.kube.get('v1', 'Pod', I, w)?.metadata.deletionTimestamp).toBeDefined();
    expect(isCordoned(cluster, dead)).toBe(true);
    cluster.kube.expectCalls(
      [`patch /api/v1/nodes/${dead}`, ...workers.map((w) => ({ call: `create /api/v1/namespaces/${I}/pods/${w}/eviction`, times: 'some' as const }))],
      { since: mark, ignore: [READS, BOT_STATE] },
    );
  }, 30_000);

  it('is refused at run time too, when the other Ready worker went away after the plan was approved', async () => {
    // Replacements take a minute to turn Ready: a worker lost now is not back before the run.
    const { cluster, bot } = await startClusterWithBot(closers, { gpuNodes: 3, workers: 2, readyDelayMs: 60_000 });
    const [onFirst] = workersOn(cluster, 'vlinders-gpu-1');
    expect(onFirst).toBeDefined();
    await bot.slash(USERS.admin, CHANNELS.ops, 'node drain vlinders-gpu-2');
    const card = await bot.card(CHANNELS.ops);
    cluster.kube.remove('v1', 'Pod', I, onFirst as string);
    const mark = cluster.kube.mark();
    await bot.click(USERS.approver, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 10_000);
    expect(done.text).toMatch(/^❌/);
    expect(threadText(bot, card.message.ts)).toContain('Refused: Draining vlinders-gpu-2 would take the last Ready GPU worker of vlinders-ray-cluster');
    expect(isCordoned(cluster, 'vlinders-gpu-2')).toBe(false);
    expect(cluster.kube.calls(mark).filter((c) => !READS.test(c) && !BOT_STATE.test(c))).toEqual([]);
  }, 30_000);

  it('is refused at plan time when it would take the last Ready GPU worker, naming why; another node is offered', async () => {
    const config = clusterConfig();
    const { cluster, bot } = await startClusterWithBot(closers, { gpuNodes: 3, workers: 1, minWorkers: 1 }, config);
    const [node] = cluster.kube.list('v1', 'Pod', I).filter((p) => p.metadata.labels?.['ray.io/node-type'] === 'worker').map((p) => (p.spec as { nodeName: string }).nodeName);
    const mark = cluster.kube.mark();
    await bot.slash(USERS.admin, CHANNELS.ops, `node drain ${node}`);
    const report = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('Refused')));
    const text = blocksText(report.blocks);
    expect(text).toContain(`Draining ${node} would take the last Ready GPU worker of vlinders-ray-cluster`);
    expect(text).toContain('`scale-gpu 2`');
    expect(text).not.toContain('vlinders_approve');
    expect(cluster.kube.calls(mark).filter((c) => !READS.test(c) && !BOT_STATE.test(c))).toEqual([]);

    const other = ['vlinders-gpu-1', 'vlinders-gpu-2', 'vlinders-gpu-3'].find((n) => n !== node) as string;
    // A bare pod with scratch space there: nothing recreates it, and its emptyDir goes with it.
    cluster.kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug-shell', namespace: I },
      spec: { nodeName: other, containers: [{ name: 'sh', image: 'busybox:1.36' }], volumes: [{ name: 'scratch', emptyDir: {} }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await bot.slash(USERS.admin, CHANNELS.ops, `node drain ${other}`);
    const card = await bot.card(CHANNELS.ops);
    const plan = blocksText(card.message.blocks);
    expect(plan).toContain(`node drain ${other}`);
    expect(plan).toContain(`No controller recreates ${I}/debug-shell: once evicted it is gone.`);
    expect(plan).toContain(`The emptyDir data of ${I}/debug-shell is deleted with the pod.`);
  }, 30_000);

  it('the last Ready worker of a group declared with minReplicas 1 and no replicas (read back as 0): one more is `scale-gpu 2`', async () => {
    const { cluster, bot } = await startClusterWithBot(closers, { gpuNodes: 3, omitWorkerReplicas: true, minWorkers: 1 });
    const [node] = cluster.kube.list('v1', 'Pod', I).filter((p) => p.metadata.labels?.['ray.io/node-type'] === 'worker').map((p) => (p.spec as { nodeName: string }).nodeName);
    await bot.slash(USERS.admin, CHANNELS.ops, `node drain ${node}`);
    const report = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('Refused')));
    expect(blocksText(report.blocks)).toContain('Add a worker first (`scale-gpu 2`)');
  }, 30_000);
});
