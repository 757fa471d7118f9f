// Slack allows chat.postMessage about once a second per channel, with short bursts (its rate
// limits page; the emulator keeps the same). Posts to one channel take their turn here, so a
// burst of answers waits in the bot, costing nothing, instead of drawing 429s that every
// waiting post then retries at once: those retry waves took the CPU the acks of new commands
// needed (bench/ack-latency.ts).
import { setTimeout as sleep } from 'node:timers/promises';

export class ChannelPacer {
  /** Per channel: when the next post may go, with no burst left (GCRA's theoretical arrival time). */
  private due = new Map<string, number>();

  /** A little under Slack's 1 a second: its clock and ours differ, and a post a hair early draws a 429. */
  constructor(
    private perSecond = 0.9,
    private burst = 3,
    private now: () => number = () => performance.now(),
    private wait: (ms: number) => Promise<unknown> = (ms) => sleep(ms),
  ) {}

  /** Resolves when a post to `channel` may go; turns are handed out in call order. */
  async turn(channel: string): Promise<void> {
    const interval = 1000 / this.perSecond;
    const t = this.now();
    const due = Math.max(this.due.get(channel) ?? t, t);
    const start = Math.max(t, due - (this.burst - 1) * interval);
    this.due.set(channel, due + interval);
    if (this.due.size > 1000) for (const [c, d] of this.due) if (d < t) this.due.delete(c);
    if (start > t) await this.wait(start - t);
  }
}
