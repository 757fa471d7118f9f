// Work that follows an ack runs here, a few jobs at a time, each started from
// setImmediate. Under a burst, Node then keeps reading and acking new requests
// instead of spending its turns on the work of the ones already acked: the ack path
// stays as fast as a bare Bolt app's, and the work catches up after the burst.
export class WorkQueue {
  private waiting: Array<() => void> = [];
  private active = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private concurrency = 4) {}

  get size(): number {
    return this.active + this.waiting.length;
  }

  /** Runs the job when a slot is free; resolves when it has finished (it never rejects). */
  push(job: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const start = () => {
        this.active++;
        setImmediate(() => {
          job()
            .catch(() => undefined)
            .finally(() => {
              this.active--;
              resolve();
              this.next();
            });
        });
      };
      if (this.active < this.concurrency) start();
      else this.waiting.push(start);
    });
  }

  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    const start = this.waiting.shift();
    if (start) start();
    else if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
