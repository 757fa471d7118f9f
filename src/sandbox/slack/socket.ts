// Slack's side of Socket Mode: single-use connection URLs, the `hello` frame, envelopes out and acks in.
// Frame shapes follow python-slack-sdk's captured envelopes and Slack's documented hello.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SocketAck } from './types.js';

export const SOCKET_PATH = '/link/';

interface Pending {
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class SocketHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  /** Open connections that have been sent `hello`, oldest first. */
  private readonly open: WebSocket[] = [];
  private readonly pending = new Map<string, Pending>();
  private waiters: Array<() => void> = [];

  constructor(private readonly appId: string) {}

  /** What apps.connections.open returns: like Slack's wss://…/link/?ticket=…&app_id=…, but usable once. */
  issueUrl(httpBase: string): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `${httpBase.replace(/^http/, 'ws')}${SOCKET_PATH}?ticket=${ticket}&app_id=${this.appId}`;
  }

  get connections(): number {
    return this.open.length;
  }

  /** Handles an HTTP upgrade for the socket path; a missing or reused ticket is refused like Slack does. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== SOCKET_PATH || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.open.push(ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.onFrame(String(data));
    });
    ws.on('close', () => {
      const i = this.open.indexOf(ws);
      if (i >= 0) this.open.splice(i, 1);
    });
    ws.on('error', () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.open.length,
        debug_info: { host: 'applink-emulator', build_number: 10, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private onFrame(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // Slack ignores frames it can't parse; so do we.
    }
    if (typeof frame !== 'object' || frame === null) return;
    const id = (frame as { envelope_id?: unknown }).envelope_id;
    if (typeof id !== 'string') return;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(frame as SocketAck);
  }

  /** Resolves once a client is connected and has been sent `hello` (at once if one already is). */
  connected(timeoutMs?: number): Promise<void> {
    if (this.open.length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => reject(new Error(`no Socket Mode client connected within ${timeoutMs}ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Sends an envelope on the newest connection (Slack picks one of the app's connections) and resolves
   * with the app's ack. Waits for a connection if none is open yet, within the same timeout.
   */
  async send(type: string, payload: unknown, acceptsResponsePayload: boolean, timeoutMs: number): Promise<SocketAck> {
    const started = Date.now();
    await this.connected(timeoutMs);
    const ws = this.open[this.open.length - 1];
    if (!ws) throw new Error('Socket Mode connection closed before the envelope could be sent');
    const envelopeId = randomUUID();
    const remaining = Math.max(1, timeoutMs - (Date.now() - started));
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        reject(new Error(`Socket Mode: no ack for ${type} envelope ${envelopeId} within ${timeoutMs}ms`));
      }, remaining);
      this.pending.set(envelopeId, { resolve, reject, timer });
      ws.send(
        JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: acceptsResponsePayload }),
      );
    });
  }

  /** Drops every connection at once (no close handshake) and fails acks still awaited. */
  close(): Promise<void> {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`Socket Mode: emulator closed before envelope ${id} was acked`));
    }
    this.pending.clear();
    for (const ws of [...this.open]) ws.terminate();
    this.open.length = 0;
    this.tickets.clear();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
