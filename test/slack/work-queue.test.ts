import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/slack/work-queue.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

let server: Server | undefined;
let client: Socket | undefined;
afterEach(() => {
  client?.destroy();
  server?.close();
});

describe('the work queue', () => {
  it('reads what arrives between two jobs: one job starts per turn of the event loop', async () => {
    const events: string[] = [];
    // A request arriving while the jobs run: bytes a peer sends, read in the loop's poll phase.
    server = createServer((socket) => socket.on('data', () => events.push('request read')));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    await new Promise((resolve) => client?.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));

    const queue = new WorkQueue({ slots: 4, maxRunning: 4, maxWaiting: 0 });
    const job = (name: string) => async () => {
      events.push(name);
      // The request arrives during the first job; each job works 5 ms before it would await.
      if (name === 'a') client?.write('x');
      busy(5);
    };
    for (const name of ['a', 'b', 'c']) expect(queue.push(job(name))).toBe(true);
    await queue.idle();
    for (let i = 0; i < 50 && !events.includes('request read'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events).toEqual(['a', 'request read', 'b', 'c']);
  });

  it('a job that throws before its first await fails alone: the next still starts, and the queue goes idle', async () => {
    const queue = new WorkQueue({ slots: 2, maxRunning: 2, maxWaiting: 5 });
    let ran = false;
    expect(queue.push((() => { throw new Error('thrown at once'); }) as () => Promise<void>)).toBe(true);
    expect(queue.push(async () => void (ran = true))).toBe(true);
    await queue.idle();
    expect(ran).toBe(true);
    expect(queue.size).toBe(0);
  });

  it('keeps its bounds: jobs past the slots wait, past the waiting bound are refused', async () => {
    const queue = new WorkQueue({ slots: 1, maxRunning: 1, maxWaiting: 1 });
    const order: string[] = [];
    let finishFirst: () => void = () => undefined;
    expect(queue.push(() => new Promise<void>((resolve) => (order.push('first'), (finishFirst = resolve))))).toBe(true);
    expect(queue.push(async () => void order.push('second'))).toBe(true);
    expect(queue.push(async () => void order.push('refused'))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['first']);
    finishFirst();
    await queue.idle();
    expect(order).toEqual(['first', 'second']);
  });
});
