// Cron jobs (digests) that run on the leader replica only. Each tick is claimed in the Store
// with a create-if-absent before the job runs, so two replicas (even across a leadership
// handover) run a tick once. A tick missed while the bot was down runs once at start, when it
// is no older than the grace window; older ones are skipped.
// Ticks are at least once: a claim names its holder and is "claimed" until the job finished,
// then "done". The holder renews the claim's lease while the job runs; a claim left "claimed"
// with its lease run out (its holder died or lost leadership) is taken over by the leader and
// run again, once. Jobs make that safe: a post records its root (markRoot) so a re-run continues
// in that thread instead of posting again.
import { hostname } from 'node:os';
import { Cron } from 'croner';
import type { Logger } from 'pino';
import { LOCK_LEASE_MS } from '../core/operation-lock.js';
import { editEntry, type Store } from '../core/store.js';

/** Said in a re-run tick's thread. */
export const RETRY_NOTE = 'retrying: the previous attempt was interrupted';

/** One run of one tick, as the job sees it. */
export interface TickAttempt {
  /** 1 for the first run; 2 when an earlier attempt was interrupted. */
  number: number;
  /** The root message an earlier attempt posted for this tick (its ts), if it got that far. */
  root?: string;
  /** Records the tick's root message right after it is posted, so a re-run doesn't post it again. */
  markRoot(ts: string): Promise<void>;
}

export interface ScheduledJob {
  /** Short DNS-ish name, used in store keys: `daily`, `weekly`, `monthly`. */
  name: string;
  cron: string;
  /** Runs the job for one tick; `tick` is the scheduled time, not the wall-clock time. */
  run: (tick: Date, attempt: TickAttempt) => Promise<void>;
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
  /** Who holds a claim (the pod name); default the host name. */
  identity?: string;
  /** How long a claim holds without its holder renewing it; default CLAIM_LEASE_MS. */
  claimLeaseMs?: number;
  /** How often a running job's claim is renewed; default a third of the lease. */
  renewMs?: number;
}

export const TICK_KIND = 'schedule-tick';
const LAST_KIND = 'schedule-last';

/**
 * A claim's default lease. A dead holder's operation locks (a backup's on its database) free up
 * one LOCK_LEASE_MS after their last renewal, and its claim was renewed up to a third of this
 * lease before that: 1.5× the lock lease lets the retry find the lock free, not "busy".
 */
export const CLAIM_LEASE_MS = 1.5 * LOCK_LEASE_MS;

/** Attempts per tick: the first, and one retry after an interruption. */
const MAX_ATTEMPTS = 2;

interface TickClaim {
  job: string;
  tick: string;
  claimedAt: string;
  holder?: string;
  /** Claims written before states existed have none: they count as done. */
  state?: 'claimed' | 'done' | 'abandoned';
  attempt?: number;
  leaseUntil?: string;
  root?: string;
}

/** The store key that claims one tick of one job. */
export const tickKey = (job: string, tick: Date): string => `digest-${job}-${tick.toISOString()}`;

export class Scheduler {
  private readonly crons: Array<{ job: ScheduledJob; cron: Cron }>;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Tick keys this replica is running now. */
  private readonly active = new Set<string>();
  private readonly identity: string;
  private readonly claimLeaseMs: number;

  constructor(private opts: SchedulerOptions) {
    this.now = opts.now ?? Date.now;
    this.identity = opts.identity ?? hostname();
    this.claimLeaseMs = opts.claimLeaseMs ?? CLAIM_LEASE_MS;
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
      // The last tick seen counts again (it may be claimed but not done); the window's start too.
      const from = new Date(Math.max(lastMs, graceStart) - 1);
      const tick = Scheduler.latestTick(cron, from, now);
      if (!tick) continue;
      // Leadership may have moved while we looked; the claim below settles any race.
      if (!this.opts.isLeader()) break;
      const key = tickKey(job.name, tick);
      if (this.active.has(key)) continue;
      const fresh: TickClaim = { job: job.name, tick: tick.toISOString(), claimedAt: now.toISOString(), holder: this.identity, state: 'claimed', attempt: 1, leaseUntil: new Date(now.getTime() + this.claimLeaseMs).toISOString() };
      const claim = (await this.opts.store.create<TickClaim>(TICK_KIND, key, fresh)) ? fresh : await this.takeOver(key, now);
      await this.remember(job.name, tick);
      if (!claim) continue;
      await this.prune(now.getTime()).catch((err: unknown) => this.opts.log?.warn({ err }, 'scheduler: could not prune old tick claims'));
      this.opts.log?.info({ job: job.name, tick: tick.toISOString(), attempt: claim.attempt }, 'scheduled job: running tick');
      if (await this.runClaimed(job, tick, key, claim)) ran.push({ job: job.name, tick });
    }
    return ran;
  }

  /**
   * A claim another holder left "claimed" with its lease run out: this replica takes it (a
   * compare-and-swap, so one replica does) and runs it again, when it has an attempt left.
   */
  private async takeOver(key: string, now: Date): Promise<TickClaim | undefined> {
    const entry = await this.opts.store.get<TickClaim>(TICK_KIND, key);
    const claim = entry?.value;
    if (!entry || !claim || claim.state !== 'claimed') return undefined;
    if (claim.leaseUntil && Date.parse(claim.leaseUntil) > now.getTime()) return undefined;
    const attempt = (claim.attempt ?? 1) + 1;
    if (attempt > MAX_ATTEMPTS) {
      if (await this.opts.store.update<TickClaim>(TICK_KIND, key, { ...claim, state: 'abandoned' }, entry.version)) {
        this.opts.log?.error({ job: claim.job, tick: claim.tick, attempts: claim.attempt }, 'scheduled job: interrupted again after its retry; not run again');
      }
      return undefined;
    }
    const next: TickClaim = { ...claim, holder: this.identity, state: 'claimed', attempt, claimedAt: now.toISOString(), leaseUntil: new Date(now.getTime() + this.claimLeaseMs).toISOString() };
    if (!(await this.opts.store.update<TickClaim>(TICK_KIND, key, next, entry.version))) return undefined;
    this.opts.log?.warn({ job: claim.job, tick: claim.tick, previousHolder: claim.holder }, 'scheduled job: re-running a tick whose earlier attempt was interrupted');
    return next;
  }

  /** Runs a tick this replica holds, renewing its claim while it runs; true when the job finished. */
  private async runClaimed(job: ScheduledJob, tick: Date, key: string, claim: TickClaim): Promise<boolean> {
    this.active.add(key);
    const mine = (c: TickClaim) => c.holder === this.identity && c.attempt === claim.attempt;
    const edit = (change: (c: TickClaim) => TickClaim) => editEntry<TickClaim>(this.opts.store, TICK_KIND, key, (c) => (mine(c) ? change(c) : c));
    // A replica that no longer leads stops renewing, so the new leader can take the tick over.
    let renewing = false;
    const renew = setInterval(() => {
      if (renewing || !this.opts.isLeader()) return;
      renewing = true;
      const leaseUntil = new Date(this.now() + this.claimLeaseMs).toISOString();
      edit((c) => ({ ...c, leaseUntil }))
        .catch((err: unknown) => this.opts.log?.warn({ err }, 'scheduler: could not renew a tick claim'))
        .finally(() => (renewing = false));
    }, this.opts.renewMs ?? this.claimLeaseMs / 3);
    renew.unref();
    const attempt: TickAttempt = { number: claim.attempt ?? 1, root: claim.root, markRoot: async (ts) => void (await edit((c) => ({ ...c, root: ts }))) };
    let finished = false;
    try {
      await job.run(tick, attempt);
      finished = true;
    } catch (err) {
      // A job that failed (rather than died) is done: its failure was reported, not lost.
      this.opts.log?.error({ err, job: job.name, tick: tick.toISOString() }, 'scheduled job failed');
    } finally {
      clearInterval(renew);
      this.active.delete(key);
    }
    await edit((c) => ({ ...c, state: 'done' })).catch((err: unknown) => this.opts.log?.error({ err, job: job.name, tick: tick.toISOString() }, 'scheduler: could not record a tick as done'));
    return finished;
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
