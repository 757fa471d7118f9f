// Two bot replicas against one cluster emulator: ConfigMap stores and Lease electors of their
// own, one clock we move by hand. Every tick is posted once, also when both think they lead,
// and when the leader dies the other takes over within the lease time and posts the next tick.
import { Cron } from 'croner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/core/store.js';
import { LeaderElector } from '../../src/kube/leader.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { clientFor, emulatorWithNamespace } from '../kube/kube-client.js';

let emu: KubeApiEmulator;
beforeAll(async () => {
  emu = await emulatorWithNamespace();
});
afterAll(async () => {
  await emu.close();
});

const LEASE_SECONDS = 15;
const at = (iso: string) => Date.parse(iso);

function replica(name: string, clock: { t: number }, posts: Array<{ by: string; tick: string }>, leaseName: string) {
  const kube = clientFor(emu, name);
  const elector = new LeaderElector(kube, { namespace: 'vlinders-ops', name: leaseName, identity: name, leaseSeconds: LEASE_SECONDS, now: () => clock.t });
  let forceLeader = false;
  const scheduler = new Scheduler({
    store: new ConfigMapStore(kube, 'vlinders-ops'),
    isLeader: () => forceLeader || elector.isLeader(),
    timezone: 'UTC',
    graceMinutes: 120,
    now: () => clock.t,
    jobs: [{ name: 'daily', cron: '0 8 * * *', run: async (tick) => void posts.push({ by: name, tick: tick.toISOString() }) }],
  });
  return { elector, scheduler, forceLeader: (on: boolean) => (forceLeader = on) };
}

describe('scheduler on two replicas', () => {
  it('posts each tick once, and the other replica takes over within the lease time', async () => {
    const clock = { t: at('2026-11-25T07:59:50Z') };
    const posts: Array<{ by: string; tick: string }> = [];
    const a = replica('replica-a', clock, posts, 'leader-handover');
    const b = replica('replica-b', clock, posts, 'leader-handover');
    expect(await a.elector.tryOnce()).toBe(true);
    expect(await b.elector.tryOnce()).toBe(false);

    // Before the tick: nothing.
    await Promise.all([a.scheduler.poll(), b.scheduler.poll()]);
    expect(posts).toEqual([]);

    // The tick: the leader posts it, once, however often both poll.
    clock.t = at('2026-11-25T08:00:03Z');
    await Promise.all([a.scheduler.poll(), b.scheduler.poll()]);
    clock.t = at('2026-11-25T08:00:18Z');
    await a.elector.tryOnce();
    await b.elector.tryOnce();
    await Promise.all([a.scheduler.poll(), b.scheduler.poll(), a.scheduler.poll()]);
    expect(posts).toEqual([{ by: 'replica-a', tick: '2026-11-25T08:00:00.000Z' }]);

    // The leader dies (no release: it just stops renewing). Within the lease time B can't take
    // over; once the lease has run out, B's next round takes it.
    const lastRenew = clock.t;
    clock.t = lastRenew + (LEASE_SECONDS - 1) * 1000;
    expect(await b.elector.tryOnce()).toBe(false);
    clock.t = lastRenew + LEASE_SECONDS * 1000;
    expect(await b.elector.tryOnce()).toBe(true);
    expect(b.elector.isLeader()).toBe(true);
    // B doesn't repeat the tick A posted.
    await b.scheduler.poll();
    expect(posts).toHaveLength(1);

    // The next tick is B's.
    clock.t = at('2026-11-26T08:00:01Z');
    await b.elector.tryOnce();
    await b.scheduler.poll();
    expect(posts).toEqual([
      { by: 'replica-a', tick: '2026-11-25T08:00:00.000Z' },
      { by: 'replica-b', tick: '2026-11-26T08:00:00.000Z' },
    ]);
  });

  it('posts a tick once when both replicas believe they lead (a handover race)', async () => {
    const clock = { t: at('2026-12-01T08:00:02Z') };
    const posts: Array<{ by: string; tick: string }> = [];
    const a = replica('race-a', clock, posts, 'leader-race');
    const b = replica('race-b', clock, posts, 'leader-race');
    a.forceLeader(true);
    b.forceLeader(true);
    await Promise.all([a.scheduler.poll(), b.scheduler.poll(), a.scheduler.poll(), b.scheduler.poll()]);
    expect(posts).toHaveLength(1);
  });

  it('does nothing on a follower', async () => {
    const clock = { t: at('2026-11-25T08:00:02Z') };
    const posts: Array<{ by: string; tick: string }> = [];
    const s = new Scheduler({ store: new MemoryStore(), isLeader: () => false, timezone: 'UTC', graceMinutes: 60, now: () => clock.t, jobs: [{ name: 'daily', cron: '0 8 * * *', run: async (t) => void posts.push({ by: 'x', tick: t.toISOString() }) }] });
    expect(await s.poll()).toEqual([]);
    expect(posts).toEqual([]);
  });
});

describe('missed runs and timezones', () => {
  const job = (ticks: string[]) => ({ name: 'daily', cron: '0 8 * * *', run: async (t: Date) => void ticks.push(t.toISOString()) });

  it('runs a tick missed while down once at start, within the grace window', async () => {
    const store = new MemoryStore();
    await store.create('schedule-last', 'daily', { tick: '2026-11-24T08:00:00.000Z' });
    const clock = { t: at('2026-11-25T09:30:00Z') };
    const ticks: string[] = [];
    const s = new Scheduler({ store, isLeader: () => true, timezone: 'UTC', graceMinutes: 120, now: () => clock.t, jobs: [job(ticks)] });
    await s.poll();
    await s.poll();
    expect(ticks).toEqual(['2026-11-25T08:00:00.000Z']);
    // A second replica starting later doesn't run it again.
    const s2 = new Scheduler({ store, isLeader: () => true, timezone: 'UTC', graceMinutes: 120, now: () => clock.t, jobs: [job(ticks)] });
    await s2.poll();
    expect(ticks).toHaveLength(1);
  });

  it('skips a missed tick older than the grace window, and runs only the latest of several', async () => {
    const ticks: string[] = [];
    const late = new Scheduler({ store: new MemoryStore(), isLeader: () => true, timezone: 'UTC', graceMinutes: 120, now: () => at('2026-11-25T10:00:01Z'), jobs: [job(ticks)] });
    await late.poll();
    expect(ticks).toEqual([]);
    const hourly = new Scheduler({
      store: new MemoryStore(),
      isLeader: () => true,
      timezone: 'UTC',
      graceMinutes: 180,
      now: () => at('2026-11-25T10:30:00Z'),
      jobs: [{ ...job(ticks), cron: '0 * * * *' }],
    });
    await hourly.poll();
    expect(ticks).toEqual(['2026-11-25T10:00:00.000Z']);
  });

  it('keeps a week of tick claims, not every tick ever', async () => {
    const store = new MemoryStore();
    const ticks: string[] = [];
    let t = at('2026-11-01T08:00:30Z');
    const s = new Scheduler({ store, isLeader: () => true, timezone: 'UTC', graceMinutes: 60, now: () => t, jobs: [job(ticks)] });
    for (let day = 0; day < 20; day++, t += 86_400_000) await s.poll();
    expect(ticks).toHaveLength(20);
    const claims = await store.list('schedule-tick');
    expect(claims.length).toBeLessThanOrEqual(8);
    expect(claims.map((c) => c.key)).toContain('digest-daily-2026-11-20T08:00:00.000Z');
  });

  it('reads cron in the configured timezone', () => {
    const cron = new Cron('0 8 * * *', { timezone: 'Europe/Amsterdam', paused: true });
    expect(Scheduler.latestTick(cron, new Date('2026-11-25T00:00:00Z'), new Date('2026-11-25T12:00:00Z'))?.toISOString()).toBe('2026-11-25T07:00:00.000Z');
    expect(Scheduler.latestTick(cron, new Date('2026-07-01T00:00:00Z'), new Date('2026-07-01T12:00:00Z'))?.toISOString()).toBe('2026-07-01T06:00:00.000Z');
    const s = new Scheduler({ store: new MemoryStore(), isLeader: () => true, timezone: 'Europe/Amsterdam', graceMinutes: 0, now: () => at('2026-11-25T07:00:00Z'), jobs: [job([])] });
    expect(s.nextTick('daily')?.toISOString()).toBe('2026-11-26T07:00:00.000Z');
  });
});
