// pods/exec over WebSocket, the channel protocols of k8s.io/apimachinery's wsstream:
// every binary frame starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error/status,
// 4 resize). v4+ send a v1 Status on channel 3; v5 adds the client's close signal
// [255, channel], which lets stdin reach EOF without closing the socket. SPDY is not served.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { WebSocket, type WebSocketServer } from 'ws';
import type { ExecRequest, WorldHooks } from './contract.js';
import { checkExecState, resolveContainer } from './logs.js';
import type { Route } from './rest.js';
import { toApiError } from './respond.js';
import { badRequest } from './status.js';
import type { Store } from './store.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/** The first protocol the client offers that we speak (the server honours the client's order). */
export function pickProtocol(offered: Set<string>): string | false {
  for (const p of offered) if (EXEC_PROTOCOLS.includes(p)) return p;
  return false;
}

/** Writes a plain HTTP error response on a socket that asked to upgrade. */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  const e = toApiError(err);
  const body = JSON.stringify(e.status);
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[e.code] ?? 'Error';
  socket.end(`HTTP/1.1 ${e.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export interface ExecContext {
  store: Store;
  hooks: () => WorldHooks;
  wss: WebSocketServer;
}

export function handleExecUpgrade(ctx: ExecContext, req: IncomingMessage, socket: Duplex, head: Buffer, route: Route, q: URLSearchParams): void {
  const isWebSocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  try {
    const { container, pod } = resolveContainer(ctx.store, route, q.get('container'));
    checkExecState(pod, container);
    const command = q.getAll('command');
    if (!command.length) throw badRequest('you must specify at least one command for the container');
    if (!isWebSocket) throw badRequest('this emulator serves pods/exec over WebSocket only (no SPDY)');
    ctx.wss.handleUpgrade(req, socket, head, (ws) => {
      void runExec(ctx, ws, { namespace: route.namespace as string, pod: route.name as string, container, command, q });
    });
  } catch (err) {
    rejectUpgrade(socket, err);
  }
}

const on = (q: URLSearchParams, k: string): boolean => q.get(k) === 'true' || q.get(k) === '1';

async function runExec(
  ctx: ExecContext,
  ws: WebSocket,
  r: { namespace: string; pod: string; container: string; command: string[]; q: URLSearchParams },
): Promise<void> {
  const version = ws.protocol === 'v5.channel.k8s.io' ? 5 : ws.protocol === 'v4.channel.k8s.io' ? 4 : 1;
  const abort = new AbortController();
  const stdin = on(r.q, 'stdin') ? new PassThrough() : undefined;
  ws.on('message', (data: Buffer) => {
    if (!Buffer.isBuffer(data) || data.length < 1) return;
    const ch = data[0];
    if (ch === 0) stdin?.write(data.subarray(1));
    else if (ch === 255 && version >= 5 && data[1] === 0) stdin?.end();
    // channel 4 (resize) carries {"Width":..,"Height":..}: nothing to resize here.
  });
  ws.on('close', () => {
    abort.abort();
    if (stdin && !stdin.writableEnded) stdin.end();
  });
  ws.on('error', () => abort.abort());

  const channel = (ch: number, wanted: boolean): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (!wanted || ws.readyState !== WebSocket.OPEN || !chunk.length) return cb();
        ws.send(Buffer.concat([Buffer.from([ch]), chunk]), () => cb());
      },
    });
  const stdout = channel(1, on(r.q, 'stdout'));
  const stderr = channel(2, on(r.q, 'stderr'));

  const req: ExecRequest = { namespace: r.namespace, pod: r.pod, container: r.container, command: r.command, stdout, stderr, signal: abort.signal, cut: () => ws.terminate(), ...(stdin ? { stdin } : {}) };
  let code: number;
  let internalError: string | undefined;
  try {
    const run = ctx.hooks().exec?.(req);
    if (run === undefined) {
      // What runc reports for a missing binary, with the shell's "command not found" code.
      stderr.write(`exec: "${r.command[0]}": executable file not found in $PATH\n`);
      code = 127;
    } else code = await run;
  } catch (err) {
    internalError = `error executing command in container: ${err instanceof Error ? err.message : String(err)}`;
    code = -1;
  }
  await Promise.all([finish(stdout), finish(stderr)]);
  if (ws.readyState !== WebSocket.OPEN) return;
  const status = statusFor(version, r.command, code, internalError);
  if (status) await new Promise<void>((ok) => ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(status)]), () => ok()));
  ws.close(1000);
}

function finish(w: Writable): Promise<void> {
  if (w.writableFinished) return Promise.resolve();
  return new Promise((ok) => {
    w.once('finish', ok);
    w.once('error', () => ok());
    if (!w.writableEnded) w.end();
  });
}

/** The channel-3 message: a v1 Status for v4+, the bare error text (or nothing) before that. */
function statusFor(version: number, command: string[], code: number, internalError?: string): string | undefined {
  if (internalError) {
    const msg = `Internal error occurred: ${internalError}`;
    return version >= 4
      ? JSON.stringify({ metadata: {}, status: 'Failure', message: msg, reason: 'InternalError', details: { causes: [{ message: internalError }] }, code: 500 })
      : msg;
  }
  if (code === 0) return version >= 4 ? JSON.stringify({ metadata: {}, status: 'Success' }) : undefined;
  const message = `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`;
  if (version < 4) return message;
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}
