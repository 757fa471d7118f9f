// Work that follows an ack runs here, a few jobs at a time, each started from
// setImmediate. Under a burst, Node then keeps reading and acking new requests
// instead of spending its turns on the work of the ones already acked: the ack path
// stays as fast as a bare Bolt app's, and the work catches up after the burst.
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
      const handOff =
        this.bounds.handOffMs === undefined
          ? undefined
          : setTimeout(() => {
              release();
              this.next();
            }, this.bounds.handOffMs).unref();
      setImmediate(() => {
        job()
          .catch(() => undefined)
          .finally(() => {
            clearTimeout(handOff);
            release();
            this.running--;
            this.next();
          });
      });
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

  private canStart(): boolean {
    return this.holding < this.bounds.slots && this.running < this.bounds.maxRunning;
  }

  private next(): void {
    while (this.waiting.length > 0 && this.canStart()) (this.waiting.shift() as () => void)();
    if (this.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
