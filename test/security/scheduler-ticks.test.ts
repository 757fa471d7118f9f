// Issue 13, item 13: a crash between a tick's claim and its work no longer loses the tick.
// Two (or three) replicas, each with its own ConfigMap store and Lease elector against one kube
// emulator, one clock moved by hand. A replica "dies" the way a SIGKILLed pod does: its job
// never finishes and it renews nothing (neither its Lease nor its tick claim). The new leader
// re-runs the tick once the claim's lease has run out; the tick's work happens once, a root
// already posted is continued rather than posted again, and the thread says it was a retry.
// The first describe also kills a replica that is a real process (tick-replica.ts) with SIGKILL;
// the Slack cases run their replicas in this process, the store and Lease traffic the real one.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BusyError, withOperationLock } from '../../src/core/operation-lock.js';
import { MemoryStore } from '../../src/core/store.js';
import { LeaderElector } from '../../src/kube/leader.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { digestScheduler } from '../../src/schedule/digests.js';
import { RETRY_NOTE, Scheduler, TICK_KIND, tickKey, type TickAttempt } from '../../src/schedule/scheduler.js';
import { CHANNELS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';
import { clientFor, emulatorWithNamespace } from '../kube/kube-client.js';

let emu: KubeApiEmulator;
beforeAll(async () => {
  emu = await emulatorWithNamespace();
});
afterAll(async () => {
  await emu.close();
});
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const LEASE_SECONDS = 15;
const CLAIM_LEASE_MS = 30_000;
const at = (iso: string) => Date.parse(iso);
// The replicas share one store: each test uses ticks of its own, later than the test before.
/** What a SIGKILLed job looks like from inside: it never returns. */
const never = () => new Promise<never>(() => undefined);

/** One bot replica's leadership and store; `die()` stops it as a kill would (it renews nothing). */
function replica(name: string, clock: { t: number }, leaseName: string) {
  const kube = clientFor(emu, name);
  const elector = new LeaderElector(kube, { namespace: 'vlinders-ops', name: leaseName, identity: name, leaseSeconds: LEASE_SECONDS, now: () => clock.t });
  let dead = false;
  return {
    name,
    elector,
    store: new ConfigMapStore(kube, 'vlinders-ops'),
    isLeader: () => !dead && elector.isLeader(),
    die: () => void (dead = true),
  };
}
type Replica = ReturnType<typeof replica>;

/** `from` dies; once the Lease and the claim's lease have run out, `to` leads. */
async function handOver(from: Replica, to: Replica, clock: { t: number }) {
  from.die();
  clock.t += Math.max(LEASE_SECONDS * 1000, CLAIM_LEASE_MS) + 1000;
  expect(await to.elector.tryOnce()).toBe(true);
}

/** A replica's scheduler, renewing its running claims every 50 real milliseconds (the clock is by hand). */
function scheduler(r: Replica, clock: { t: number }, run: (tick: Date, attempt: TickAttempt) => Promise<void>) {
  return new Scheduler({ store: r.store, isLeader: r.isLeader, identity: r.name, claimLeaseMs: CLAIM_LEASE_MS, renewMs: 50, timezone: 'UTC', graceMinutes: 120, now: () => clock.t, jobs: [{ name: 'daily', cron: '0 8 * * *', run }] });
}

describe('the leader dies right after claiming a tick', () => {
  it('the new leader runs the tick again once the claim lease is out, once; a finished tick is never run again', async () => {
    const clock = { t: at('2026-11-25T08:00:02Z') };
    const [a, b, c] = ['claim-a', 'claim-b', 'claim-c'].map((n) => replica(n, clock, 'ticks-claim')) as [Replica, Replica, Replica];
    const started: string[] = [];
    const finished: Array<{ by: string; attempt: number }> = [];
    const job = (r: Replica, hang: boolean) => async (_tick: Date, attempt: TickAttempt) => {
      started.push(r.name);
      if (hang) await never();
      finished.push({ by: r.name, attempt: attempt.number });
    };
    expect(await a.elector.tryOnce()).toBe(true);
    const sa = scheduler(a, clock, job(a, true));
    const sb = scheduler(b, clock, job(b, false));
    const sc = scheduler(c, clock, job(c, false));
    void sa.poll();
    await expect.poll(() => started).toEqual(['claim-a']);
    const claim = await a.store.get<{ holder: string; state: string }>(TICK_KIND, tickKey('daily', new Date('2026-11-25T08:00:00Z')));
    expect(claim?.value).toMatchObject({ holder: 'claim-a', state: 'claimed' });

    // A follower, and a replica that believes it leads while A's claim lease holds, leave it alone.
    await sb.poll();
    b.elector.isLeader = () => true;
    await sb.poll();
    expect(started).toEqual(['claim-a']);
    b.elector.isLeader = LeaderElector.prototype.isLeader.bind(b.elector);

    // A is killed. B leads once the Lease has run out and re-runs the tick, once.
    await handOver(a, b, clock);
    expect((await sb.poll()).map((r) => r.job)).toEqual(['daily']);
    await sb.poll();
    expect(finished).toEqual([{ by: 'claim-b', attempt: 2 }]);

    // B finished, then dies: the tick is done, and C (within the grace window) does not repeat it.
    await handOver(b, c, clock);
    await sc.poll();
    expect(started).toEqual(['claim-a', 'claim-b']);
    expect(finished).toHaveLength(1);
  });

  it('a live leader renews its claim while a long job runs, so nobody takes the tick over; once done, nobody runs it again', async () => {
    const clock = { t: at('2026-11-26T08:00:02Z') };
    const [a, b] = ['renew-a', 'renew-b'].map((n) => replica(n, clock, 'ticks-renew')) as [Replica, Replica];
    const started: string[] = [];
    let release = () => undefined as void;
    const long = (r: Replica) => async () => {
      started.push(r.name);
      await new Promise<void>((resolve) => (release = resolve));
    };
    expect(await a.elector.tryOnce()).toBe(true);
    const running = scheduler(a, clock, long(a)).poll();
    await expect.poll(() => started).toEqual(['renew-a']);
    // Hours of scheduled time pass while A still leads (it keeps its Lease) and keeps running.
    const key = tickKey('daily', new Date('2026-11-26T08:00:00Z'));
    clock.t += 2 * CLAIM_LEASE_MS;
    expect(await a.elector.tryOnce()).toBe(true);
    await expect.poll(async () => Date.parse((await b.store.get<{ leaseUntil: string }>(TICK_KIND, key))?.value.leaseUntil ?? '') > clock.t).toBe(true);
    // B, believing it leads (a handover race), sees a live claim and leaves it.
    b.elector.isLeader = () => true;
    await scheduler(b, clock, long(b)).poll();
    expect(started).toEqual(['renew-a']);
    release();
    await running;
    expect((await b.store.get<{ state: string }>(TICK_KIND, key))?.value.state).toBe('done');
    // A finished its first attempt, then dies: the tick is done, so the new leader leaves it.
    b.elector.isLeader = LeaderElector.prototype.isLeader.bind(b.elector);
    await handOver(a, b, clock);
    await scheduler(b, clock, async () => void started.push('renew-b')).poll();
    expect(started).toEqual(['renew-a']);
  });

  it('an attempt interrupted twice is not run a third time (retried once)', async () => {
    const clock = { t: at('2026-11-27T08:00:02Z') };
    const [a, b, c] = ['twice-a', 'twice-b', 'twice-c'].map((n) => replica(n, clock, 'ticks-twice')) as [Replica, Replica, Replica];
    const started: Array<{ by: string; attempt: number }> = [];
    const hang = (r: Replica) => async (_tick: Date, attempt: TickAttempt) => {
      started.push({ by: r.name, attempt: attempt.number });
      await never();
    };
    expect(await a.elector.tryOnce()).toBe(true);
    void scheduler(a, clock, hang(a)).poll();
    await expect.poll(() => started.length).toBe(1);
    await handOver(a, b, clock);
    void scheduler(b, clock, hang(b)).poll();
    await expect.poll(() => started.length).toBe(2);
    await handOver(b, c, clock);
    await scheduler(c, clock, hang(c)).poll();
    expect(started).toEqual([
      { by: 'twice-a', attempt: 1 },
      { by: 'twice-b', attempt: 2 },
    ]);
    const claim = await c.store.get<{ state: string }>(TICK_KIND, tickKey('daily', new Date('2026-11-27T08:00:00Z')));
    expect(claim?.value.state).toBe('abandoned');
  });
});

describe('a replica process killed with SIGKILL', () => {
  /** Starts tick-replica.ts as the leader; resolves once it stopped at `step`, then kills it. */
  async function killAt(step: 'claimed' | 'root', identity: string, leaseName: string, nowMs: number) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/security/tick-replica.ts'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    child.stderr.on('data', (d: Buffer) => (err += String(d)));
    child.stdin.end(JSON.stringify({ kubeconfig: emu.kubeconfig(), identity, leaseName, leaseSeconds: LEASE_SECONDS, claimLeaseMs: CLAIM_LEASE_MS, nowMs, step }));
    await expect.poll(() => out + err, { timeout: 20_000 }).toContain(`${step}\n`);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  }

  for (const step of ['claimed', 'root'] as const) {
    it(`killed ${step === 'claimed' ? 'right after its claim' : 'after posting its root and marker'}: the new leader runs the tick once${step === 'root' ? ', in that root' : ''}`, async () => {
      const day = step === 'claimed' ? '2026-11-28' : '2026-11-29';
      const clock = { t: at(`${day}T08:00:02Z`) };
      await killAt(step, `proc-${step}-a`, `ticks-proc-${step}`, clock.t);
      const b = replica(`proc-${step}-b`, clock, `ticks-proc-${step}`);
      const runs: Array<{ attempt: number; root?: string }> = [];
      const sb = scheduler(b, clock, async (_tick, attempt) => void runs.push({ attempt: attempt.number, root: attempt.root }));
      // Within the Lease, B is a follower; after it (and the claim's lease), B re-runs the tick once.
      expect(await b.elector.tryOnce()).toBe(false);
      await sb.poll();
      expect(runs).toEqual([]);
      clock.t += Math.max(LEASE_SECONDS * 1000, CLAIM_LEASE_MS) + 1000;
      expect(await b.elector.tryOnce()).toBe(true);
      await sb.poll();
      await sb.poll();
      expect(runs).toEqual([step === 'root' ? { attempt: 2, root: `root-of-proc-${step}-a` } : { attempt: 2 }]);
    }, 40_000);
  }
});

describe('the retry of an interrupted backup', () => {
  it('comes after the dead attempt\'s operation lock has run out, so it is not refused as busy', async () => {
    // Default claim lease, as in production; the job holds the database lock a backup takes.
    const store = new MemoryStore();
    const clock = { t: at('2026-11-25T02:00:02Z') };
    const outcomes: string[] = [];
    let alive = 'lock-a';
    const backup = (name: string, hang: boolean) =>
      new Scheduler({
        store,
        isLeader: () => alive === name,
        identity: name,
        timezone: 'UTC',
        graceMinutes: 120,
        now: () => clock.t,
        jobs: [
          {
            name: 'run-nightly-backup',
            cron: '0 2 * * *',
            run: async () => {
              try {
                await withOperationLock(store, { kind: 'db-lock', key: 'vlinders' }, { operation: 'backup', subject: 'database vlinders', by: 'schedule' }, async () => (hang ? never() : undefined), { now: () => clock.t });
                outcomes.push(`${name}: backed up`);
              } catch (err) {
                outcomes.push(`${name}: ${err instanceof BusyError ? 'busy' : String(err)}`);
              }
            },
          },
        ],
      });
    void backup('lock-a', true).poll();
    await expect.poll(async () => (await store.list('db-lock')).length).toBe(1);
    alive = 'lock-b';
    const b = backup('lock-b', false);
    // B polls every 15 s after A's death until it has re-run the tick.
    for (let i = 0; i < 40 && outcomes.length === 0; i++) {
      clock.t += 15_000;
      await b.poll();
    }
    expect(outcomes).toEqual(['lock-b: backed up']);
  });
});

describe('through Slack: the digest and a scheduled run', () => {
  async function world(leaseName: string, clockStart: string, prefix = leaseName) {
    const cluster = await startCluster({ gpuNodes: 2, workers: 1, readyDelayMs: 20 });
    closers.push(() => cluster.close());
    const config = clusterConfig();
    config.schedule.channel = CHANNELS.ops;
    config.schedule.runs = [{ name: 'nightly', cron: '0 2 * * *', command: 'test-hold nightly' }];
    const botA = await startBot({ config, services: cluster.services });
    closers.push(() => botA.close());
    const botB = await startBot({ config, services: cluster.services, emu: botA.emu });
    closers.push(() => botB.close());
    const clock = { t: at(clockStart) };
    const [a, b] = [`${prefix}-a`, `${prefix}-b`].map((n) => replica(n, clock, leaseName)) as [Replica, Replica];
    return { cluster, config, botA, botB, clock, a, b, emu: botA.emu };
  }
  type World = Awaited<ReturnType<typeof world>>;
  const schedulerOf = (w: World, r: Replica, deps: Pick<Parameters<typeof digestScheduler>[0], 'post' | 'runCommand'>) => {
    const s = digestScheduler({ config: w.config, store: r.store, kube: () => w.cluster.client, isLeader: r.isLeader, identity: r.name, claimLeaseMs: CLAIM_LEASE_MS, signal: new AbortController().signal, now: () => w.clock.t, ...deps });
    if (!('poll' in s)) throw new Error(s.reason);
    return s;
  };
  const roots = (w: World, text: string) => w.emu.messages.filter((m) => m.channel === CHANNELS.ops && !m.thread_ts && `${m.text} ${blocksText(m.blocks)}`.includes(text));
  const threadText = (w: World, ts: string) => w.emu.threadOf(CHANNELS.ops, ts).map((m) => `${m.text} ${blocksText(m.blocks)}`);

  it('the digest: killed after its root and marker were posted, then killed before posting at all; one root each, the retry said in its thread', async () => {
    const w = await world('ticks-digest', '2026-12-03T08:00:02Z');
    const { a, b, botA, botB } = w;
    expect(await a.elector.tryOnce()).toBe(true);
    // A posts the root, its marker is written, and A is killed before the thread.
    let rootPosted = false;
    const sa = schedulerOf(w, a, {
      post: (where, report, onRoot) =>
        botA.bot.publish(where, report, undefined, async (ts) => {
          await onRoot?.(ts);
          rootPosted = true;
          await never();
        }),
      runCommand: never,
    });
    void sa.poll();
    await expect.poll(() => rootPosted, { timeout: 20_000 }).toBe(true);
    const sb = schedulerOf(w, b, { post: (where, report, onRoot) => botB.bot.publish(where, report, undefined, onRoot), runCommand: never });
    await handOver(a, b, w.clock);
    await sb.poll();
    const dailies = roots(w, 'daily digest');
    expect(dailies).toHaveLength(1);
    const thread = threadText(w, dailies[0]?.ts ?? '');
    expect(thread[0]).toContain(RETRY_NOTE);
    expect(thread.length).toBeGreaterThan(1);

    // The next day B leads and is killed right after its claim, before it posted anything;
    // A comes back (a new pod) and posts the digest once, with the retry in its thread.
    w.clock.t = at('2026-12-04T08:00:02Z');
    expect(await b.elector.tryOnce()).toBe(true);
    let claimed = false;
    const sbDying = schedulerOf(w, b, { post: async () => ((claimed = true), never()), runCommand: never });
    void sbDying.poll();
    await expect.poll(() => claimed, { timeout: 20_000 }).toBe(true);
    const a2 = replica('ticks-digest-a2', w.clock, 'ticks-digest');
    await handOver(b, a2, w.clock);
    await schedulerOf(w, a2, { post: (where, report, onRoot) => botA.bot.publish(where, report, undefined, onRoot), runCommand: never }).poll();
    const next = roots(w, 'scheduled 2026-12-04T08:00:00.000Z');
    expect(next).toHaveLength(1);
    expect(threadText(w, next[0]?.ts ?? '').join('\n')).toContain(RETRY_NOTE);
  }, 90_000);

  it('a scheduled run killed while running: retried once in the same thread, done once', async () => {
    const w = await world('ticks-run', '2026-11-25T02:00:02Z');
    const { a, b, botA, botB } = w;
    const run = (bot: typeof botA) => (channel: string, r: { name: string; command: string }, tick: Date, attempt: TickAttempt) => bot.bot.runScheduled(channel, r, tick, attempt);
    expect(await a.elector.tryOnce()).toBe(true);
    // A's run holds at its gate, which never opens for A: it is killed mid-run.
    void schedulerOf(w, a, { post: never, runCommand: run(botA) }).poll();
    await expect.poll(() => botA.runLog.runs.length, { timeout: 20_000 }).toBe(1);
    const root = roots(w, 'Scheduled run nightly');
    expect(root).toHaveLength(1);
    botB.gates.open('nightly');
    await handOver(a, b, w.clock);
    await schedulerOf(w, b, { post: never, runCommand: run(botB) }).poll();
    expect(botB.runLog.runs).toHaveLength(1);
    // One root, updated in place to done; the retry and one outcome in its thread.
    const after = roots(w, 'Scheduled run nightly');
    expect(after).toHaveLength(1);
    expect(after[0]?.text).toMatch(/✅ Scheduled run nightly .*: done/);
    const thread = threadText(w, after[0]?.ts ?? '');
    expect(thread.filter((t) => t.includes(RETRY_NOTE))).toHaveLength(1);
    expect(thread.filter((t) => t.includes('gate nightly opened'))).toHaveLength(1);
  }, 90_000);
});
