// Slack allows chat.postMessage about once a second per channel, with short bursts, and each
// other method a number of calls a minute per workspace by its tier (its rate limits page; the
// emulator keeps the same). Calls under one key (a channel's posts, the workspace's edits) take
// their turn here, so a burst waits in the bot, costing nothing, instead of drawing 429s: the
// WebClient then holds back every call it has, to any channel, for the Retry-After, and the
// waiting posts retry at once, in waves that took the CPU the acks of new commands needed
// (bench/ack-latency.ts).
import { setTimeout as sleep } from 'node:timers/promises';

export class RatePacer {
  /** Per key: when the next call may go, with no burst left (GCRA's theoretical arrival time). */
  private due = new Map<string, number>();

  constructor(
    private perSecond: number,
    private burst: number,
    private now: () => number = () => performance.now(),
    private wait: (ms: number) => Promise<unknown> = (ms) => sleep(ms),
  ) {}

  /** Resolves when a call under `key` (a channel, a method) may go; turns are handed out in call order. */
  async turn(key: string): Promise<void> {
    const interval = 1000 / this.perSecond;
    const t = this.now();
    const due = Math.max(this.due.get(key) ?? t, t);
    const start = Math.max(t, due - (this.burst - 1) * interval);
    this.due.set(key, due + interval);
    if (this.due.size > 1000) for (const [k, d] of this.due) if (d < t) this.due.delete(k);
    if (start > t) await this.wait(start - t);
  }
}

/** chat.update is Tier 3: "50+ per minute", for the whole workspace. */
export const SLACK_EDITS_PER_MINUTE = 50;
/** views.publish is Tier 4: "100+ per minute". */
export const SLACK_HOME_PUBLISHES_PER_MINUTE = 100;

/**
 * One process's pacers. Slack's limits hold per app and workspace, and every replica of the
 * bot answers commands and alerts: with N of them, each keeps to 1/N of each limit.
 */
export function slackPacers(replicas = 1, clock?: PacerClock): { posts: RatePacer; edits: RatePacer; homes: RatePacer } {
  return {
    // A little under Slack's 1 a second per channel: its clock and ours differ, and a post a hair early draws a 429.
    posts: new RatePacer(0.9 / replicas, Math.max(1, Math.floor(3 / replicas)), clock?.now, clock?.wait),
    edits: tierPacer(SLACK_EDITS_PER_MINUTE / replicas, clock),
    homes: tierPacer(SLACK_HOME_PUBLISHES_PER_MINUTE / replicas, clock),
  };
}

/** A pacer's clock and how it waits (tests give a virtual one). */
type PacerClock = { now: () => number; wait: (ms: number) => Promise<unknown> };

/**
 * Calls of one method within its tier however Slack counts its minute: a burst of 40% of it (a
 * person's run of commands each editing a summary and a line), then a pace that keeps any 60 s
 * to 94% of it (burst + 60 s of pace), so a fixed or sliding window holds them too.
 */
export function tierPacer(perMinute: number, clock?: PacerClock): RatePacer {
  const burst = Math.max(1, Math.floor(perMinute * 0.4));
  return new RatePacer(Math.max(perMinute * 0.94 - burst, 1) / 60, burst, clock?.now, clock?.wait);
}
