// Redis' PING over RESP, from the bot's pod to the Service: the check an SRE makes with
// `redis-cli -h redis ping`, without needing redis-cli in the bot's image.
import { connect } from 'node:net';
import { UnreachableError } from '../core/errors.js';

export interface PingAnswer {
  /** +PONG, or -NOAUTH when the server wants a password first (it is up either way). */
  reply: string;
  ms: number;
}

export function parseAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

export function redisPing(address: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<PingAnswer> {
  const { host, port } = parseAddress(address);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = '';
    const done = (err: Error | undefined, reply?: string) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve({ reply: reply ?? '', ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => done(new UnreachableError(`Redis at ${address} did not answer PING within ${Math.round(opts.timeoutMs / 1000)} s`)), opts.timeoutMs);
    const onAbort = () => done(new UnreachableError(`PING to Redis at ${address} was stopped`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end >= 0) done(undefined, buffer.slice(0, end));
      else if (buffer.length > 1024) done(new UnreachableError(`Redis at ${address} answered something that is not RESP`));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(new UnreachableError(`Redis at ${address} is unreachable (${err.code ?? err.message})`)));
    socket.on('close', () => done(new UnreachableError(`Redis at ${address} closed the connection without answering`)));
  });
}
