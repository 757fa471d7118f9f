// Two bot replicas scheduling the real digests against one seeded cluster: each keeps its
// state in ConfigMaps of its own store client, both believe they lead (a handover race), and
// on a Monday that is also the 1st every report (daily, weekly, monthly) is posted once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/core/report.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { digestScheduler } from '../../src/schedule/digests.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { CHANNELS } from '../fixtures/world.js';
import { clientFor } from '../kube/kube-client.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ gpuNodes: 2, workers: 1, readyDelayMs: 0 });
  c.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vlinders-ops' } });
});
afterAll(() => c.close());

describe('scheduled digests on two replicas', () => {
  it('posts the daily, weekly and monthly reports of one tick once each', async () => {
    const config = clusterConfig();
    config.schedule.channel = CHANNELS.ops;
    // 2026-06-01 is a Monday and the 1st: all three are due at 08:00.
    let now = Date.parse('2026-06-01T08:00:04Z');
    const posts: Array<{ by: string; channel: string; report: Report }> = [];
    const replica = (name: string) => {
      const s = digestScheduler({
        config,
        store: new ConfigMapStore(clientFor(c.kube, name), 'vlinders-ops'),
        kube: () => clientFor(c.kube, name),
        isLeader: () => true,
        post: async (where, report) => void posts.push({ by: name, channel: where.channel, report }),
        signal: new AbortController().signal,
        now: () => now,
      });
      if (!('poll' in s)) throw new Error(s.reason);
      return s;
    };
    const a = replica('replica-a');
    const b = replica('replica-b');
    await Promise.all([a.poll(), b.poll(), a.poll(), b.poll()]);
    now += 90_000;
    await Promise.all([a.poll(), b.poll()]);
    const kinds = posts.map((p) => p.report.title.split(' ')[0]).sort();
    expect(kinds).toEqual(['daily', 'monthly', 'weekly']);
    expect(posts.every((p) => p.channel === CHANNELS.ops)).toBe(true);
    for (const p of posts) {
      expect(p.report.summary).toContain('scheduled 2026-06-01T08:00:00.000Z');
      expect(p.report.thread?.length).toBe(1);
    }
    expect(posts.find((p) => p.report.title.startsWith('monthly'))?.report.offers?.[0]?.words).toEqual(['restore-drill']);

    // The next day only the daily digest is due.
    now = Date.parse('2026-06-02T08:00:04Z');
    await Promise.all([a.poll(), b.poll()]);
    expect(posts.slice(3).map((p) => p.report.title.split(' ')[0])).toEqual(['daily']);
  }, 60_000);
});
