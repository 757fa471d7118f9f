// Issue 13, item 9: a store failure after an action ran must not lose its outcome. The bot
// keeps its state in ConfigMaps (the real ConfigMapStore through client-node, against the
// kube-apiserver emulator); the apiserver drops the connection (ECONNRESET) on the write
// that records the outcome. The audit log still has the outcome, the report is still posted,
// and the write is retried.
import { afterEach, describe, expect, it } from 'vitest';
import { PendingActions } from '../../src/core/pending.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const STORE_NS = 'vlinders-ops';
const finished = (m: RecordedMessage) => /Done|warnings|Failed/.test(m.text);

async function setup() {
  const cluster = await startCluster({ gpuNodes: 6, workers: 3, readyDelayMs: 800 });
  closers.push(() => cluster.close());
  cluster.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: STORE_NS } });
  const store = new ConfigMapStore(cluster.client, STORE_NS);
  const config = clusterConfig();
  const bot = await startBot({ config, services: cluster.services, store });
  closers.push(() => bot.close());
  return { cluster, bot, store };
}

/** Asks for scale-gpu 5 and approves it; once the RayCluster is patched (the action is running), `duringRun` is called. */
async function runScale(ctx: Awaited<ReturnType<typeof setup>>, duringRun: () => void) {
  const { bot, cluster } = ctx;
  await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 5');
  const card = await bot.card(CHANNELS.ops);
  await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
  const replicas = () => (cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster')?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas;
  await bot.emu.waitFor(() => replicas() === 5, 10_000);
  duringRun();
  const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 20_000);
  return { card, done };
}

const storeWrites = (ctx: Awaited<ReturnType<typeof setup>>) => ctx.cluster.kube.requests.filter((r) => r.method === 'PUT' && r.path.includes('/configmaps/'));

describe('the store fails after an action ran', () => {
  it('a dropped connection on the outcome write: retried, and the outcome is audited and posted', async () => {
    const ctx = await setup();
    let writesBefore = 0;
    const { card, done } = await runScale(ctx, () => {
      writesBefore = storeWrites(ctx).length;
      ctx.cluster.kube.failNext({ method: 'PUT', path: /\/namespaces\/vlinders-ops\/configmaps\// }, 'reset', 2);
    });
    expect(done.text).toMatch(/^✅ Done/);
    const report = ctx.bot.emu.threadOf(CHANNELS.ops, card.message.ts).map((m) => blocksText(m.blocks)).join('\n');
    expect(report).toContain('all Ready');
    const outcome = ctx.bot.log.audit().find((l) => l.event === 'outcome' && l.actionId === card.id);
    expect(outcome).toMatchObject({ command: 'scale-gpu', outcome: 'ok' });
    // Two writes were dropped, the third landed.
    expect(storeWrites(ctx).length - writesBefore).toBe(3);
    expect(storeWrites(ctx).slice(writesBefore).map((r) => r.status)).toEqual([0, 0, 200]);
    expect((await new PendingActions(ctx.store, 60_000).get(card.id))?.state).toBe('succeeded');
  });

  it('a store that stays down: the outcome is still audited and posted, and the failure is logged', async () => {
    const ctx = await setup();
    const { card, done } = await runScale(ctx, () => {
      ctx.cluster.kube.failNext({ method: 'PUT', path: /\/namespaces\/vlinders-ops\/configmaps\// }, 'reset', 1000);
    });
    expect(done.text).toMatch(/^✅ Done/);
    expect(ctx.bot.emu.threadOf(CHANNELS.ops, card.message.ts).map((m) => blocksText(m.blocks)).join('\n')).toContain('all Ready');
    expect(ctx.bot.log.audit().find((l) => l.event === 'outcome' && l.actionId === card.id)).toMatchObject({ command: 'scale-gpu', outcome: 'ok' });
    const logged = ctx.bot.log.lines.find((l) => l.actionId === card.id && l.level === 50);
    expect(logged?.msg).toContain('could not be written to the store');
    // Nobody was told "something went wrong" for an action that worked.
    expect(ctx.bot.emu.ephemerals.filter((e) => e.user === USERS.operator)).toEqual([]);
  });
});
