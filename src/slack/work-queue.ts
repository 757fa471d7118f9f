// Work that follows an ack runs here, a few jobs at a time, and one job starts per turn of
// the event loop (from setImmediate, which a job started there can only queue for the next
// turn). Between two starts Node reads and acks the requests that arrived: an ack waits
// behind at most one job's first stretch of work, not behind every job the last burst queued.
//
// Every queue is bounded: past its bound a job is refused, never run, and the caller says
// "busy" to the person. A job that is still running after `handOffMs` gives its slot to the
// next one: a slow read waits on the cluster, not the CPU, and must not hold up `whoami`.

export interface QueueBounds {
  /** Jobs started and not yet handed off, at once. */
  slots: number;
  /** Jobs running at once, handed-off ones included. */
  maxRunning: number;
  /** Jobs that may wait for a slot; the next one is refused. */
  maxWaiting: number;
  /** A job running this long gives up its slot (it keeps running). Unset: it holds the slot to the end. */
  handOffMs?: number;
}

export class WorkQueue {
  private waiting: Array<() => void> = [];
  /** Jobs holding a slot. */
  private holding = 0;
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  /** Jobs admitted (they hold their slot) and not yet started: one starts per turn. */
  private starting: Array<() => void> = [];
  private turnTaken = false;

  constructor(readonly bounds: QueueBounds) {}

  get size(): number {
    return this.running + this.waiting.length;
  }

  /** How many jobs are running now. */
  get active(): number {
    return this.running;
  }

  /**
   * Runs the job when a slot is free (a job's failure is its own to report). False when the
   * queue is full: the job is dropped without running.
   */
  push(job: () => Promise<void>): boolean {
    const start = () => {
      this.holding++;
      this.running++;
      let holds = true;
      const release = () => {
        if (!holds) return;
        holds = false;
        this.holding--;
      };
      this.starting.push(() => {
        // The hand-off counts from the job's start, not from its admission.
        const handOff =
          this.bounds.handOffMs === undefined
            ? undefined
            : setTimeout(() => {
                release();
                this.next();
              }, this.bounds.handOffMs).unref();
        // A job that throws before its first await is a failed job like any other.
        new Promise<void>((resolve) => resolve(job()))
          .catch(() => undefined)
          .finally(() => {
            clearTimeout(handOff);
            release();
            this.running--;
            this.next();
          });
      });
      this.startNextTurn();
    };
    if (this.waiting.length === 0 && this.canStart()) start();
    else if (this.waiting.length < this.bounds.maxWaiting) this.waiting.push(start);
    else return false;
    return true;
  }

  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts the first admitted job on the loop's next check phase, and the one after on the turn after it. */
  private startNextTurn(): void {
    if (this.turnTaken) return;
    this.turnTaken = true;
    setImmediate(() => {
      this.turnTaken = false;
      const first = this.starting.shift();
      if (this.starting.length > 0) this.startNextTurn();
      first?.();
    });
  }

  private canStart(): boolean {
    return this.holding < this.bounds.slots && this.running < this.bounds.maxRunning;
  }

  private next(): void {
    while (this.waiting.length > 0 && this.canStart()) (this.waiting.shift() as () => void)();
    if (this.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
