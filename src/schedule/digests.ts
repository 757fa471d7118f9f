// The scheduled digests: which jobs exist, and what a tick does (build, then post to the
// schedule channel). Weekly and monthly are not built yet, so only daily is scheduled.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Report } from '../core/report.js';
import type { Store } from '../core/store.js';
import { buildDailyDigest } from '../digest/daily.js';
import type { KubeClient } from '../kube/client.js';
import { Scheduler, type ScheduledJob } from './scheduler.js';

export interface DigestSchedulerDeps {
  config: Config;
  store: Store;
  kube: () => KubeClient;
  isLeader: () => boolean;
  /** Posts a Report to a channel (SlackPoster.report). */
  post: (channel: string, report: Report) => Promise<unknown>;
  signal: AbortSignal;
  log?: Logger;
  now?: () => number;
  pollMs?: number;
}

/** The digest scheduler, or why there is none. */
export function digestScheduler(deps: DigestSchedulerDeps): Scheduler | { reason: string } {
  const { config } = deps;
  const channel = config.schedule.channel;
  if (!channel) return { reason: 'schedule.channel is not set' };
  if (config.clusters.length === 0) return { reason: 'no cluster configured' };
  const jobs: ScheduledJob[] = [
    {
      name: 'daily',
      cron: config.schedule.daily,
      run: async (tick) => {
        const digest = await buildDailyDigest({ kube: deps.kube(), config, signal: deps.signal, now: deps.now });
        digest.report.summary = `${digest.report.summary ?? ''} · scheduled ${tick.toISOString()}`;
        await deps.post(channel, digest.report);
      },
    },
  ];
  return new Scheduler({ store: deps.store, isLeader: deps.isLeader, timezone: config.schedule.timezone, graceMinutes: config.schedule.graceMinutes, jobs, now: deps.now, pollMs: deps.pollMs, log: deps.log });
}
