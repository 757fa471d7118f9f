// Slack emulator → real Bolt → commands → kube-apiserver emulator with a seeded Vlinders
// cluster (KubeRay controller running, nvidia-smi answering from real captures).
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigMapStore } from '../../src/kube/store.js';
import { vlindersExec } from '../../src/sandbox/kube/world/index.js';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster, startClusterWithBot } from './cluster.js';
import { blocksText, startBot } from './harness.js';

const closers: Array<() => Promise<void>> = [];
/** The bot's own state (pending actions, locks) in ConfigMaps of its namespace: not the operation under test. */
const BOT_STATE = /^(create|get|update|delete) \/api\/v1\/namespaces\/vlinders-ops\/configmaps(\/|$)/;
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const setup = (world: Parameters<typeof startClusterWithBot>[1], config = clusterConfig()) => startClusterWithBot(closers, world, config);

/** The report a read command posted in a channel: its whole rendered text. */
async function reportIn(bot: Awaited<ReturnType<typeof startBot>>, channel: string, title: string, timeoutMs = 8000): Promise<string> {
  const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === channel && blocksText(m.blocks).includes(title)), timeoutMs);
  return blocksText(message.blocks);
}

describe('status', () => {
  it('on a broken cluster names every broken thing, and nothing healthy', async () => {
    const { cluster, bot } = await setup({ notReadyGpuNode: true, crashLoopApiPod: true, pendingPod: true, unboundPvc: true });
    await bot.slash(USERS.viewer, CHANNELS.general, 'status');
    const text = await reportIn(bot, CHANNELS.general, 'need attention');
    const broken = cluster.world.cluster.broken;
    for (const name of [broken.notReadyNode, broken.crashLoopPod, broken.pendingPod, broken.unboundPvc]) {
      expect(name, 'the world seeded it').toBeTruthy();
      expect(text).toContain(name as string);
    }
    expect(text).toContain('NotReady');
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toContain('Insufficient nvidia.com/gpu');
    expect(text).toContain('not Bound');
    // Nothing healthy is listed as needing attention.
    const attention = text.slice(text.indexOf('Needs attention'), text.indexOf('Checked'));
    for (const healthy of [...cluster.world.cluster.apiPods.filter((p) => p !== broken.crashLoopPod), cluster.world.cluster.ray.head, ...cluster.world.cluster.ray.workers]) {
      expect(attention).not.toContain(healthy);
    }
    for (const node of cluster.world.cluster.nodes.cpu) expect(attention).not.toContain(node);
  });

  it('a Terminating worker is not counted as Ready, though its Ready condition still says True', async () => {
    // Its containers take a minute to stop, and the replacement KubeRay makes is slow to start.
    const { cluster, bot } = await setup({ workers: 3, terminationMs: 60_000, readyDelayMs: 60_000 });
    const victim = cluster.world.cluster.ray.workers[0] as string;
    await cluster.client.core.deleteNamespacedPod({ name: victim, namespace: 'vlinders-inference' });
    const pod = cluster.kube.get('v1', 'Pod', 'vlinders-inference', victim);
    expect(pod?.metadata.deletionTimestamp).toBeDefined();
    expect((pod?.status as { conditions: Array<{ type: string; status: string }> }).conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    await bot.slash(USERS.viewer, CHANNELS.general, 'status');
    const text = await reportIn(bot, CHANNELS.general, 'need');
    expect(text).toContain('gpu-workers 2/3 ready');
    expect(text).toContain(`${victim}`);
    expect(text).toContain('Terminating');
  });

  it('on a healthy cluster says so', async () => {
    const { bot } = await setup({});
    await bot.slash(USERS.viewer, CHANNELS.general, 'status');
    const text = await reportIn(bot, CHANNELS.general, 'All healthy');
    expect(text).toContain('✅ status');
    expect(text).toContain('gpu-workers 3/3 ready');
  });

  it('a worker group declared with minReplicas 2 and no replicas: 2 desired, as the operator runs, not the 0 the CRD defaults replicas to', async () => {
    const { cluster, bot } = await setup({ omitWorkerReplicas: true, minWorkers: 2 });
    const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    expect((rc?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(0);
    await bot.slash(USERS.viewer, CHANNELS.general, 'status');
    const text = await reportIn(bot, CHANNELS.general, 'All healthy');
    expect(text).toContain('gpu-workers 2/2 ready');
  });

  it('replicas above maxReplicas: maxReplicas desired, as the operator runs', async () => {
    const { bot } = await setup({ gpuNodes: 6, workers: 6, maxWorkers: 4 });
    await bot.slash(USERS.viewer, CHANNELS.general, 'status');
    const text = await reportIn(bot, CHANNELS.general, 'All healthy');
    expect(text).toContain('gpu-workers 4/4 ready');
  });

  it('an unknown --cluster is a clear usage error', async () => {
    const { bot } = await setup({});
    await bot.slash(USERS.viewer, CHANNELS.general, 'status --cluster prod');
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals[0]);
    expect(e.text).toContain('unknown cluster "prod"; configured: test');
  });
});

describe('scale-gpu', () => {
  async function approve(bot: Awaited<ReturnType<typeof startBot>>, text: string) {
    await bot.slash(USERS.operator, CHANNELS.ops, text);
    const card = await bot.card(CHANNELS.ops);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    return card;
  }
  const finished = (m: RecordedMessage) => /Done|warnings|Failed/.test(m.text);
  /** Commands refused before any plan card: each one's ephemeral answer says what is expected, and nothing is posted. */
  async function expectRefused(bot: Awaited<ReturnType<typeof startBot>>, commands: Array<[user: string, text: string, answer: string]>): Promise<void> {
    for (const [user, text] of commands) await bot.slash(user, CHANNELS.ops, text);
    const texts = await bot.emu.waitFor(() => (bot.emu.ephemerals.length >= commands.length ? bot.emu.ephemerals.map((e) => e.text) : undefined));
    expect(texts).toEqual(expect.arrayContaining(commands.map(([, , answer]) => expect.stringContaining(answer))));
    expect(bot.emu.messages).toHaveLength(0);
  }

  it('5 from 3, once approved, leaves 5 replicas and ends ✅ when 5 workers are Ready', async () => {
    // Slow enough that progress (updated at most once a second) shows the way up.
    const { cluster, bot } = await setup({ gpuNodes: 6, workers: 3, readyDelayMs: 1500 });
    const card = await approve(bot, 'scale-gpu 5');
    expect(blocksText(card.message.blocks)).toContain('3 → 5');
    expect(blocksText(card.message.blocks)).toContain('GPUs free');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 15_000);
    expect(done.text).toMatch(/^✅ Done/);
    const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    expect((rc?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(5);
    const thread = bot.emu.threadOf(CHANNELS.ops, card.message.ts).map((m) => [m.text, ...m.updates.map((u) => u.text)].join('\n')).join('\n');
    expect(thread).toContain('5/5 workers Ready');
    expect(thread).toContain('3/5 workers Ready');
    // The only write to the cluster is the one patch; the rest is reads and the bot's own state.
    cluster.kube.expectCalls(
      [
        { call: 'patch /apis/ray.io/v1/namespaces/vlinders-inference/rayclusters/vlinders-ray-cluster', times: 1 },
        { call: 'list /api/v1/namespaces/vlinders-inference/pods', times: 'some' },
        { call: 'get /apis/ray.io/v1/namespaces/vlinders-inference/rayclusters/vlinders-ray-cluster', times: 'some' },
      ],
      { ignore: [/^(get|list) /, BOT_STATE] },
    );
  });

  it('with too few GPUs it warns in the plan, ends ⚠️ and names the Pending pods', async () => {
    const { bot } = await setup({ gpuNodes: 4, workers: 3, readyDelayMs: 100 }, clusterConfig({ scaleTimeoutSeconds: 5 }));
    const card = await approve(bot, 'scale-gpu 6');
    expect(blocksText(card.message.blocks)).toContain('will stay Pending');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 15_000);
    expect(done.text).toMatch(/^⚠️/);
    const report = bot.emu.threadOf(CHANNELS.ops, card.message.ts).map((m) => blocksText(m.blocks)).join('\n');
    expect(report).toContain('Pending workers');
    expect(report).toContain('Insufficient nvidia.com/gpu');
    expect(report).toMatch(/vlinders-ray-cluster-gpu-workers-worker-[a-z0-9]{5}/);
  });

  it('a concurrent edit after the plan makes it fail cleanly, changing nothing', async () => {
    const { cluster, bot } = await setup({ gpuNodes: 6, workers: 3 });
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 5');
    const card = await bot.card(CHANNELS.ops);
    // Someone else scales to 4 with kubectl before the Approve click.
    const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    if (!rc) throw new Error('no raycluster');
    (rc.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]!.replicas = 4;
    cluster.kube.replace(rc);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 10_000);
    expect(done.text).toMatch(/^❌ Failed/);
    const report = bot.emu.threadOf(CHANNELS.ops, card.message.ts).map((m) => blocksText(m.blocks)).join('\n');
    expect(report).toContain('changed after the plan was shown');
    const after = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    expect((after?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(4);
  });

  it('an edit racing the patch itself is refused by the JSON patch test op', async () => {
    const { cluster, bot } = await setup({ gpuNodes: 6, workers: 3 });
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 5');
    const card = await bot.card(CHANNELS.ops);
    // Someone scales to 4 after the bot re-read the RayCluster on Approve and before its PATCH arrives:
    // only the patch's own `test` ops, applied by the server, can catch this one.
    cluster.kube.beforeNext({ method: 'PATCH', path: /\/rayclusters\/vlinders-ray-cluster$/ }, () => {
      const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
      if (!rc) throw new Error('no raycluster');
      (rc.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]!.replicas = 4;
      cluster.kube.replace(rc);
    });
    const mark = cluster.kube.mark();
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 10_000);
    expect(done.text).toMatch(/^❌ Failed/);
    const report = bot.emu.threadOf(CHANNELS.ops, card.message.ts).map((m) => blocksText(m.blocks)).join('\n');
    expect(report).toContain('The API refused to patch rayclusters.ray.io/vlinders-ray-cluster');
    expect(report).toContain('it changed since it was read');
    const after = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    expect((after?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(4);
    // One patch, refused with the server's 422, and no other write to the cluster's workloads.
    const patch = cluster.kube.requests.slice(mark).filter((r) => r.verb === 'patch');
    expect(patch.map((r) => [r.path, r.status])).toEqual([['/apis/ray.io/v1/namespaces/vlinders-inference/rayclusters/vlinders-ray-cluster', 422]]);
    cluster.kube.expectCalls([{ call: 'patch /apis/ray.io/v1/namespaces/vlinders-inference/rayclusters/vlinders-ray-cluster', times: 1 }], { since: mark, ignore: [/^(get|list|watch) /, BOT_STATE] });
  });

  it('minReplicas 2 and no replicas (read back as 0): 3 is planned 2 → 3 with one more GPU, and the patch sets replicas 0 → 3', async () => {
    // Two free GPUs: enough for one more worker, not for three.
    const { cluster, bot } = await setup({ gpuNodes: 4, omitWorkerReplicas: true, minWorkers: 2, readyDelayMs: 100 });
    const card = await approve(bot, 'scale-gpu 3');
    const plan = blocksText(card.message.blocks);
    expect(plan).toContain('scale-gpu gpu-workers: 2 → 3');
    expect(plan).toContain('2 (needs 1)');
    expect(plan).toContain('0 → 3 (replicas 0 is below minReplicas 2: the operator runs 2)');
    expect(plan).not.toContain('will stay Pending');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 15_000);
    expect(done.text).toMatch(/^✅ Done/);
    const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    expect((rc?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(3);
    const patch = cluster.kube.requests.filter((r) => r.verb === 'patch');
    expect(patch.map((r) => r.status)).toEqual([200]);
  });

  it('minReplicas 2 and no replicas: 2 is already what runs, and below minReplicas is refused', async () => {
    const { bot } = await setup({ omitWorkerReplicas: true, minWorkers: 2, maxWorkers: 8 });
    await expectRefused(bot, [
      [USERS.operator, 'scale-gpu 2', 'gpu-workers already has 2 workers (replicas 0 is below minReplicas 2: the operator runs 2); nothing to change'],
      [USERS.operator, 'scale-gpu 1', "1 is outside gpu-workers's range [2, 8]"],
    ]);
  });

  it('a viewer is denied; out of range is refused with what to do instead', async () => {
    const { bot } = await setup({ workers: 3, maxWorkers: 8 });
    await expectRefused(bot, [
      [USERS.viewer, 'scale-gpu 5', '`scale-gpu` needs the operator role; you are viewer here.'],
      [USERS.operator, 'scale-gpu 12', "12 is outside gpu-workers's range [1, 8]"],
      [USERS.operator, 'scale-gpu 3', 'already has 3 workers; nothing to change'],
    ]);
  });

  it('a cluster owned by a RayService: the active RayCluster is patched, not the RayService', async () => {
    const config = clusterConfig();
    config.ray.service = 'vlinders-llm';
    const { cluster, bot } = await setup({ gpuNodes: 6, workers: 3, rayService: true, rayClusterName: 'vlinders-llm-x7k2p', readyDelayMs: 100 }, config);
    const card = await approve(bot, 'scale-gpu 4');
    expect(blocksText(card.message.blocks)).toContain('active cluster of RayService vlinders-llm');
    await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 15_000);
    const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-llm-x7k2p');
    expect((rc?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(4);
    const svc = cluster.kube.get('ray.io/v1', 'RayService', 'vlinders-inference', 'vlinders-llm');
    expect(JSON.stringify(svc?.spec)).not.toContain('"replicas":4');
  });

  it('warns in the plan when the in-tree autoscaler owns replicas', async () => {
    const { bot } = await setup({ gpuNodes: 6, workers: 3, enableInTreeAutoscaling: true });
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 4');
    const card = await bot.card(CHANNELS.ops);
    expect(blocksText(card.message.blocks)).toContain('autoscaler (enableInTreeAutoscaling) owns replicas');
  });

  it('after a restart, a confirmation can still be approved: the store kept it', async () => {
    const cluster = await startCluster({ gpuNodes: 6, workers: 3, readyDelayMs: 100 });
    closers.push(() => cluster.close());
    cluster.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vlinders-ops' } });
    const config = clusterConfig();
    const first = await startBot({ config, services: cluster.services, store: new ConfigMapStore(cluster.client, 'vlinders-ops') });
    await first.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 4');
    const card = await first.card(CHANNELS.ops);
    // stop() lets acked work finish, so the card is recorded before the process goes.
    await first.bot.stop();
    expect(cluster.kube.list('v1', 'ConfigMap', 'vlinders-ops').length).toBeGreaterThan(0);
    // A new process: new engine, new store client, same cluster and workspace.
    const second = await startBot({ config, services: cluster.services, store: new ConfigMapStore(cluster.client, 'vlinders-ops'), emu: first.emu });
    closers.push(async () => {
      await second.close();
      await first.emu.close();
    });
    await second.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await second.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 15_000);
    expect(done.text).toMatch(/^✅ Done/);
  });
});

describe('gpu', () => {
  // blocksText is JSON, where a line break is the two characters \\n.
  const lineOf = (text: string, node: string) => text.split('\\n').find((l) => l.includes(node)) ?? '';

  it('on 4 workers backed by the H100, H200 and MIG captures gives their figures', async () => {
    const { cluster, bot } = await setup({ gpuNodes: 4, workers: 4, gpuModels: ['h100', 'h200', 'mig', 'h100'] });
    await bot.slash(USERS.viewer, CHANNELS.general, 'gpu');
    const text = await reportIn(bot, CHANNELS.general, 'mean utilization');
    const [h100, h200, mig, h100b] = cluster.world.cluster.nodes.gpu as [string, string, string, string];
    expect(text).toContain('4 GPUs in 4/4 pods');
    // Figures read off the captures (query-gpu-allfields_*_load.csv, query-compute-apps_*_load.csv).
    const expected: Array<[string, string[]]> = [
      [h100, ['NVIDIA H100 80GB HBM3', '100 %', '19818/81559', '59°C', '631.95/700', 'gpu_burn(15690MiB)']],
      [h100b, ['NVIDIA H100 80GB HBM3', '100 %', '19818/81559', '59°C', '631.95/700', 'gpu_burn(15690MiB)']],
      [h200, ['NVIDIA H200', '100 %', '32362/143771', '52°C', '627.4/', 'gpu_burn(28234MiB)']],
      [mig, ['MIG', '11125/81559', '53°C', '433.78/', 'gpu_burn(7484MiB)']],
    ];
    for (const [node, figures] of expected) {
      const row = lineOf(text, node);
      for (const figure of figures) expect(row, node).toContain(figure);
    }
  });

  it('a worker whose exec hangs is marked after the timeout, and the rest still arrive', async () => {
    const { cluster, bot } = await setup(
      { gpuNodes: 3, workers: 3 },
      clusterConfig({ execTimeoutSeconds: 1 }),
    );
    const hung = cluster.world.cluster.ray.workers[1] as string;
    cluster.kube.setHooks({ ...cluster.world.hooks, exec: vlindersExec({ state: cluster.kube, rules: [{ pod: hung, hang: true }] }) });
    await bot.slash(USERS.viewer, CHANNELS.general, 'gpu');
    const text = await reportIn(bot, CHANNELS.general, 'mean utilization', 10_000);
    expect(text).toContain('2 GPUs in 2/3 pods');
    expect(text).toContain(hung);
    expect(text).toMatch(/timed out|Timed out/);
  });

  it('an unknown pod is a clear message naming it', async () => {
    const { bot } = await setup({ gpuNodes: 2, workers: 2 });
    await bot.slash(USERS.viewer, CHANNELS.general, 'gpu --pod no-such-worker');
    await bot.slash(USERS.viewer, CHANNELS.general, 'gpu --pod "bad name;rm"');
    const texts = await bot.emu.waitFor(() => (bot.emu.ephemerals.length >= 2 ? bot.emu.ephemerals.map((e) => e.text) : undefined));
    expect(texts).toEqual(expect.arrayContaining([expect.stringContaining('No running Ray worker pod "no-such-worker"'), expect.stringContaining('--pod: expected a pod name')]));
  });

  it('a worker printing "No devices were found" is marked', async () => {
    const { cluster, bot } = await setup({ gpuNodes: 3, workers: 3 });
    const broken = cluster.world.cluster.ray.workers[0] as string;
    cluster.kube.setHooks({ ...cluster.world.hooks, exec: vlindersExec({ state: cluster.kube, rules: [{ pod: broken, error: 'no-devices' }] }) });
    await bot.slash(USERS.viewer, CHANNELS.general, 'gpu');
    const text = await reportIn(bot, CHANNELS.general, 'mean utilization');
    expect(text).toContain('2 GPUs in 2/3 pods');
    expect(lineOf(text.slice(text.indexOf('Needs attention')), broken)).toMatch(/No devices were found|no GPU/i);
  });
});
