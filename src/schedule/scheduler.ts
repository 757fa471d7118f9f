// Cron jobs (digests) that run on the leader replica only. Each tick is claimed in the Store
// with a create-if-absent before the job runs, so two replicas (even across a leadership
// handover) run a tick once. A tick missed while the bot was down runs once at start, when it
// is no older than the grace window; older ones are skipped.
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Store } from '../core/store.js';

export interface ScheduledJob {
  /** Short DNS-ish name, used in store keys: `daily`, `weekly`, `monthly`. */
  name: string;
  cron: string;
  /** Runs the job for one tick; `tick` is the scheduled time, not the wall-clock time. */
  run: (tick: Date) => Promise<void>;
}

export interface SchedulerOptions {
  store: Store;
  isLeader: () => boolean;
  timezone: string;
  /** A tick missed while down runs at start when it is at most this old. */
  graceMinutes: number;
  jobs: readonly ScheduledJob[];
  now?: () => number;
  /** How often `start()` polls; default 15 s. */
  pollMs?: number;
  log?: Logger;
}

export const TICK_KIND = 'schedule-tick';
const LAST_KIND = 'schedule-last';

interface TickClaim {
  job: string;
  tick: string;
  claimedAt: string;
}

/** The store key that claims one tick of one job. */
export const tickKey = (job: string, tick: Date): string => `digest-${job}-${tick.toISOString()}`;

export class Scheduler {
  private readonly crons: Array<{ job: ScheduledJob; cron: Cron }>;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private opts: SchedulerOptions) {
    this.now = opts.now ?? Date.now;
    this.crons = opts.jobs.map((job) => ({ job, cron: new Cron(job.cron, { timezone: opts.timezone, paused: true }) }));
  }

  /** The latest scheduled time in (after, upTo], if any. */
  static latestTick(cron: Cron, after: Date, upTo: Date): Date | undefined {
    let latest: Date | undefined;
    let next = cron.nextRun(after);
    // Bounded: a grace window holds a handful of ticks of any sane schedule.
    for (let i = 0; next && next.getTime() <= upTo.getTime() && i < 10_000; i++) {
      latest = next;
      next = cron.nextRun(next);
    }
    return latest;
  }

  /** The next scheduled time of a job after `from` (for display and tests). */
  nextTick(jobName: string, from = new Date(this.now())): Date | undefined {
    return this.crons.find((c) => c.job.name === jobName)?.cron.nextRun(from) ?? undefined;
  }

  /**
   * One round: on the leader, for each job, the latest tick within the grace window that has
   * not run yet is claimed and run. Returns the ticks this replica ran.
   */
  async poll(): Promise<Array<{ job: string; tick: Date }>> {
    const ran: Array<{ job: string; tick: Date }> = [];
    if (!this.opts.isLeader()) return ran;
    const now = new Date(this.now());
    const graceStart = now.getTime() - this.opts.graceMinutes * 60_000;
    for (const { job, cron } of this.crons) {
      const last = await this.opts.store.get<{ tick: string }>(LAST_KIND, job.name);
      const lastMs = last ? Date.parse(last.value.tick) : -Infinity;
      // Just before the window's start, so a tick exactly at its edge still counts.
      const from = new Date(Math.max(lastMs, graceStart - 1));
      const tick = Scheduler.latestTick(cron, from, now);
      if (!tick) continue;
      // Leadership may have moved while we looked; the claim below settles any race.
      if (!this.opts.isLeader()) break;
      const claimed = await this.opts.store.create<TickClaim>(TICK_KIND, tickKey(job.name, tick), { job: job.name, tick: tick.toISOString(), claimedAt: now.toISOString() });
      await this.remember(job.name, tick);
      if (!claimed) continue;
      await this.prune(now.getTime()).catch((err: unknown) => this.opts.log?.warn({ err }, 'scheduler: could not prune old tick claims'));
      this.opts.log?.info({ job: job.name, tick: tick.toISOString() }, 'scheduled job: running tick');
      try {
        await job.run(tick);
        ran.push({ job: job.name, tick });
      } catch (err) {
        this.opts.log?.error({ err, job: job.name, tick: tick.toISOString() }, 'scheduled job failed');
      }
    }
    return ran;
  }

  /** Drops tick claims older than a week (a claim only matters within the grace window). */
  private async prune(now: number): Promise<void> {
    const horizon = now - Math.max(7 * 86_400_000, 2 * this.opts.graceMinutes * 60_000);
    for (const { key, entry } of await this.opts.store.list<TickClaim>(TICK_KIND)) {
      if (Date.parse(entry.value.tick) < horizon) await this.opts.store.delete(TICK_KIND, key);
    }
  }

  /** Records the latest tick seen, so a restart doesn't look further back than it must. */
  private async remember(job: string, tick: Date): Promise<void> {
    const value = { tick: tick.toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = await this.opts.store.get<{ tick: string }>(LAST_KIND, job);
      if (!cur) {
        if (await this.opts.store.create(LAST_KIND, job, value)) return;
        continue;
      }
      if (Date.parse(cur.value.tick) >= tick.getTime()) return;
      if (await this.opts.store.update(LAST_KIND, job, value, cur.version)) return;
    }
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.poll()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'scheduler poll failed'));
      await this.running;
      if (this.stopped) return;
      this.timer = setTimeout(() => void loop(), this.opts.pollMs ?? 15_000);
      this.timer.unref();
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
