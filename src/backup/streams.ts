// Pass-through streams a dump flows through, each O(1) in memory:
//   DumpScanner: counts the rows pg_dump writes for chosen tables and checks the trailer;
//   Digest:      sha256 and byte count of what passes (the object as stored);
//   ParallelGzip: gzip on all cores (independent members, like pigz --independent);
//   DigestGate:  the same, and refuses to END when the sha differs from the expected one, so a
//                consumer (psql --single-transaction) never sees the EOF that would commit.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { gzip } from 'node:zlib';
import { asError } from '../core/errors.js';

export const DUMP_TRAILER = '-- PostgreSQL database dump complete';
/** `COPY schema.table (` with either part possibly "quoted" (spaces, upper case, "" inside). */
const COPY_HEADER = /^COPY ((?:"(?:[^"]|"")*"|[^\s."]+)\.(?:"(?:[^"]|"")*"|[^\s."]+)) /;
export const TRAILER_AT_END = /-- PostgreSQL database dump complete\n--\n\s*(?:\\unrestrict [A-Za-z0-9]+\s*)?$/;

/**
 * Row counts straight from the dump: pg_dump writes each table's rows as
 * `COPY schema.table (cols) FROM stdin;` then one line per row (COPY text format escapes
 * newlines), then `\.`. Counting those lines gives the rows of exactly the snapshot pg_dump
 * dumped, with no second session or exported snapshot to keep in step.
 */
export class DumpScanner extends Transform {
  readonly counts: Record<string, number> = {};
  bytes = 0;
  private wanted: Map<string, string>;
  /** The start of the current line (enough to recognise a COPY header or `\.`). */
  private lineHead = '';
  private headFull = false;
  /** Part of the current line came in an earlier chunk. */
  private partial = false;
  /** Inside a COPY block: the counted table, or null for one not counted. */
  private copying: string | null | undefined;
  private tail = '';

  /** `tables`: whose rows to count. The stream errors at its end when the trailer is missing. */
  constructor(tables: readonly string[]) {
    // A 1 MiB buffer: at the default 16 KiB the producer (an exec socket, pg_dump's pipe) is
    // paused and resumed for nearly every chunk.
    super({ highWaterMark: 1 << 20 });
    // pg_dump writes COPY public.users (...) — and quotes names that need it.
    this.wanted = new Map(tables.map((t) => [copyName(t), t]));
  }

  /** The trailer closes the dump; pg_dump ≥ 15.14/16.10/17.6 follows it with `\unrestrict <key>`. */
  get complete(): boolean {
    return TRAILER_AT_END.test(this.tail);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const stop = nl === -1 ? chunk.length : nl;
      if (nl !== -1 && !this.partial && this.copying !== undefined) {
        // Fast path for row lines, the bulk of a dump: no string is made.
        if (stop - start === 2 && chunk[start] === 0x5c && chunk[start + 1] === 0x2e) this.copying = undefined;
        else if (this.copying !== null) this.counts[this.copying] = (this.counts[this.copying] ?? 0) + 1;
        start = nl + 1;
        continue;
      }
      if (!this.headFull) {
        this.lineHead += chunk.subarray(start, Math.min(stop, start + 512 - this.lineHead.length)).toString('latin1');
        this.headFull = this.lineHead.length >= 512;
      }
      if (nl === -1) {
        this.partial = start < chunk.length || this.partial;
        break;
      }
      this.endLine();
      start = nl + 1;
    }
    this.tail = (this.tail + chunk.subarray(Math.max(0, chunk.length - 256)).toString('latin1')).slice(-256);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    cb(this.complete ? null : new IncompleteDumpError(`the dump does not end with "${DUMP_TRAILER}": it is incomplete`));
  }

  private endLine(): void {
    const line = this.lineHead;
    const cutShort = this.headFull;
    this.partial = false;
    this.lineHead = '';
    this.headFull = false;
    if (this.copying !== undefined) {
      if (line === '\\.') this.copying = undefined;
      else if (this.copying !== null) this.counts[this.copying] = (this.counts[this.copying] ?? 0) + 1;
      return;
    }
    // A COPY header of a wide table may be longer than the kept head of the line.
    const m = COPY_HEADER.exec(line);
    if (!m || (!cutShort && !line.endsWith(' FROM stdin;'))) return;
    // Rows of a table nobody asked for are skipped: only its closing `\.` matters.
    const table = this.wanted.get(m[1] as string);
    this.copying = table ?? null;
    if (table !== undefined) this.counts[table] = this.counts[table] ?? 0;
  }
}

/** How pg_dump names a table after COPY: schema.table, each part quoted only when needed. */
function copyName(table: string): string {
  const [schema, name] = table.includes('.') ? table.split('.') : ['public', table];
  const q = (s: string) => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
  return `${q(schema as string)}.${q(name as string)}`;
}

export class Digest extends Transform {
  bytes = 0;
  private hash = createHash('sha256');
  private hex?: string;

  /** `onChunk`: called after each chunk (progress), without touching the flow. */
  constructor(private onChunk?: () => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.onChunk?.();
    cb(null, chunk);
  }

  get sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

/** Passes bytes through and ends only once `ready` resolved; errors, never ends, when it rejects. */
export class EndGate extends Transform {
  constructor(private ready: Promise<unknown>) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.ready.then(
      () => cb(),
      (err: unknown) => cb(asError(err)),
    );
  }
}

export class IncompleteDumpError extends Error {
  override name = 'IncompleteDumpError';
}

export class ShaMismatchError extends Error {
  override name = 'ShaMismatchError';
}

/** A Digest that errors instead of ending when the bytes are not the expected ones. */
export class DigestGate extends Digest {
  constructor(
    private expected: { sha256: string; bytes: number },
    private what: string,
    onChunk?: () => void,
  ) {
    super(onChunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.bytes !== this.expected.bytes || this.sha256 !== this.expected.sha256) {
      cb(new ShaMismatchError(`${this.what}: sha256 ${this.sha256.slice(0, 12)}… over ${this.bytes} bytes, but the backup recorded ${this.expected.sha256.slice(0, 12)}… over ${this.expected.bytes} bytes`));
      return;
    }
    cb();
  }
}

/**
 * Gzip that keeps pace with pg_dump: the stream is cut into blocks, each compressed as its own
 * gzip member on libuv's thread pool, several at once, and written out in order. Concatenated
 * members are one valid gzip file (RFC 1952 §2.2; gunzip, zcat and zlib read them all).
 * Memory: at most `inFlight` blocks in and out.
 */
export class ParallelGzip extends Transform {
  private block: Buffer[] = [];
  private blockBytes = 0;
  private queue: Array<Promise<Buffer>> = [];

  constructor(
    private level = 1,
    private blockSize = 1 << 20,
    private inFlight = 4,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.block.push(chunk);
    this.blockBytes += chunk.length;
    if (this.blockBytes < this.blockSize) return cb();
    this.cut();
    if (this.queue.length < this.inFlight) return cb();
    // Backpressure: wait for the oldest block before taking more.
    this.shift().then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.blockBytes > 0) this.cut();
    const drain = (): Promise<void> => (this.queue.length ? this.shift().then(drain) : Promise.resolve());
    drain().then(() => cb(), cb);
  }

  private cut(): void {
    const input = Buffer.concat(this.block, this.blockBytes);
    this.block = [];
    this.blockBytes = 0;
    const block = new Promise<Buffer>((resolve, reject) => gzip(input, { level: this.level }, (err, out) => (err ? reject(err) : resolve(out))));
    // Awaited later, in order (shift); until then a failure must not count as unhandled.
    block.catch(() => undefined);
    this.queue.push(block);
  }

  private async shift(): Promise<void> {
    const next = this.queue.shift();
    if (next) this.push(await next);
  }
}
