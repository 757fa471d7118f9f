// The scheduled digests and runs: which jobs exist, and what a tick does. A digest is built and
// posted to the schedule channel (a root message with its details in a thread); a run
// (schedule.runs: a schedulable command such as backup) runs through the engine and its
// outcome is posted there.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { redactReport, type Report } from '../core/report.js';
import type { Store } from '../core/store.js';
import { DIGEST_KINDS, buildDigest, storeRecords } from '../digest/index.js';
import type { DigestSources } from '../digest/sources.js';
import type { KubeClient } from '../kube/client.js';
import { RETRY_NOTE, Scheduler, type ScheduledJob, type TickAttempt } from './scheduler.js';

export interface DigestSchedulerDeps {
  config: Config;
  store: Store;
  kube: () => KubeClient;
  isLeader: () => boolean;
  /** Posts a Report, its thread and its offers (SlackBot.publish); `onRoot` hears of its first message. */
  post: (where: { channel: string; threadTs?: string }, report: Report, onRoot?: (ts: string) => Promise<void>) => Promise<unknown>;
  /** Runs a scheduled command and posts its outcome (SlackBot.runScheduled); needed when schedule.runs has any. */
  runCommand?: (channel: string, run: { name: string; command: string }, tick: Date, attempt: TickAttempt) => Promise<unknown>;
  signal: AbortSignal;
  sources?: DigestSources;
  log?: Logger;
  now?: () => number;
  pollMs?: number;
  /** Who holds a tick's claim (the pod name, as for the leader Lease). */
  identity?: string;
  claimLeaseMs?: number;
}

/** The digest scheduler, or why there is none. */
export function digestScheduler(deps: DigestSchedulerDeps): Scheduler | { reason: string } {
  const { config } = deps;
  const channel = config.schedule.channel;
  if (!channel) return { reason: 'schedule.channel is not set' };
  if (config.clusters.length === 0) return { reason: 'no cluster configured' };
  const jobs: ScheduledJob[] = DIGEST_KINDS.map((kind) => ({
    name: kind,
    cron: config.schedule[kind],
    run: async (tick: Date, attempt: TickAttempt) => {
      const report = await buildDigest(kind, { kube: deps.kube(), config, signal: deps.signal, now: deps.now, sources: deps.sources, records: storeRecords(deps.store) });
      report.summary = `${report.summary ?? ''} · scheduled ${tick.toISOString()}`;
      // No engine between a scheduled report and Slack: redact here, as the engine does for commands.
      const redacted = redactReport(report);
      const retry: Report = { title: report.title, status: 'info', summary: `🔁 ${RETRY_NOTE}.` };
      if (attempt.root) {
        // The root is out already: the rest goes in its thread, after the note.
        await deps.post({ channel, threadTs: attempt.root }, { ...retry, thread: redacted.thread, offers: redacted.offers });
        return;
      }
      if (attempt.number > 1) redacted.thread = [retry, ...(redacted.thread ?? [])];
      await deps.post({ channel }, redacted, attempt.markRoot);
    },
  }));
  for (const r of config.schedule.runs) {
    const runCommand = deps.runCommand;
    if (!runCommand) return { reason: 'schedule.runs needs the command engine' };
    jobs.push({
      name: `run-${r.name}`,
      cron: r.cron,
      run: async (tick: Date, attempt: TickAttempt) => void (await runCommand(channel, r, tick, attempt)),
    });
  }
  return new Scheduler({ store: deps.store, isLeader: deps.isLeader, timezone: config.schedule.timezone, graceMinutes: config.schedule.graceMinutes, jobs, now: deps.now, pollMs: deps.pollMs, log: deps.log, identity: deps.identity, claimLeaseMs: deps.claimLeaseMs });
}
