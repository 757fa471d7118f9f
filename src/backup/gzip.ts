// The gzip a backup is written and read with (config.backup.gzip):
//   - `igzip`: ISA-L's igzip as a child process (argv only). At level 1 it compresses about
//     5× faster than zlib (bench/backup.ts: 850 MB of SQL in 2.5 s of CPU against 13 s), and
//     the backup's speed is its compression's: on a small pod zlib can't keep pace with pg_dump.
//   - `zlib`: Node's zlib on the thread pool (ParallelGzip), when igzip isn't installed.
//   - `auto` (default): igzip when it is on PATH, else zlib.
// Both write standard gzip (.sql.gz): gunzip, zcat and either codec read what the other wrote.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { PipeEnd } from '../postgres/index.js';
import { ParallelGzip } from './streams.js';

export type GzipSetting = 'auto' | 'igzip' | 'zlib';

/** Speed over ratio: the dump must keep pace with pg_dump (level 1 still shrinks SQL ~2-4×). */
const LEVEL = 1;

export interface GzipCodec {
  readonly name: 'igzip' | 'zlib';
  /** A stream from plain bytes to gzip; it errors (never ends) when the compressor fails. */
  compress(): Duplex;
  /** A stream from gzip to plain bytes; it errors on a truncated or corrupt input. */
  decompress(): Duplex;
  /**
   * A compressor that another process writes into over a kernel pipe (`input`, given to that
   * process as its stdout), the plain bytes never passing through the bot; `output` is the gzip.
   * igzip only: zlib compresses inside the bot.
   */
  compressPiped?(): { input: PipeEnd; output: Duplex };
}

const zlibCodec: GzipCodec = {
  name: 'zlib',
  compress: () => new ParallelGzip(LEVEL),
  decompress: () => createGunzip(),
};

const COMPRESS = [`-${LEVEL}`, '-c'];

/** igzip's stdin/stdout as one stream (ProcessDuplex). */
const igzipCodec: GzipCodec = {
  name: 'igzip',
  compress: () => new ProcessDuplex('igzip', COMPRESS),
  decompress: () => new ProcessDuplex('igzip', ['-d', '-c']),
  compressPiped: () => {
    const output = new ProcessDuplex('igzip', COMPRESS);
    return { input: output.inputForProcess(), output };
  },
};

/**
 * A child's stdin and stdout as one Duplex (argv only). It errors, instead of ending, when the
 * child exits non-zero or is killed, so a cut-off compression can't pass for a whole one; it
 * ends only once the child exited 0 and its stdout ended. Destroying it (the upload failed)
 * kills the child. Written on the child's own pipes rather than execa's duplex(), whose
 * per-chunk layers cost 0.5 s of CPU per GB (bench/backup.ts).
 */
class ProcessDuplex extends Duplex {
  private child: ChildProcessByStdio<Writable, Readable, Readable>;

  constructor(file: string, args: string[]) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    // node:child_process rather than execa: execa watches the stdin it made, and reads a stdin
    // handed over to another process (inputForProcess) as a premature close.
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const { stdin, stdout, stderr } = child;
    let stderrTail = '';
    stderr.on('data', (c: Buffer) => void (stderrTail = (stderrTail + c.toString()).slice(-2048)));
    stdin.on('error', () => undefined); // EPIPE once the child is gone: its exit says why
    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    const stdoutEnded = new Promise<void>((resolve) => stdout.once('end', resolve));
    const what = `${file} ${args.join(' ')}`;
    child.once('error', (err) => this.destroy(new Error(`${what} could not run: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) {
        void stdoutEnded.then(() => this.push(null));
        return;
      }
      const tail = stderrTail.trim().split('\n').slice(-3).join(' ');
      this.destroy(new Error(`${what} ${signal ? `was killed with ${signal}` : `exited ${code}`}${tail ? `: ${tail}` : ''}`));
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.child.stdin.write(chunk)) cb();
    else this.child.stdin.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.child.stdin.destroyed) this.child.stdin.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    cb(err);
  }

  /**
   * The child's stdin for a writer process to take as its stdout; nothing is written through
   * this stream then. handedOver() closes the bot's copy (never shutdown(), which would close
   * the socket for the writer too), so the child sees EOF when the writer exits.
   */
  inputForProcess(): PipeEnd {
    const stdin = this.child.stdin as Writable & { _handle?: { fd?: number } };
    const fd = stdin._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error('the compressor has no stdin descriptor to hand over');
    return {
      fd,
      handedOver: () => {
        stdin.destroy();
        this.end();
      },
    };
  }
}

/** The codec for a setting; `auto` looks for igzip on PATH once per PATH. */
export function gzipCodec(setting: GzipSetting = 'auto', path = process.env.PATH ?? ''): GzipCodec {
  if (setting === 'zlib') return zlibCodec;
  if (setting === 'igzip') return igzipCodec;
  return onPath('igzip', path) ? igzipCodec : zlibCodec;
}

const found = new Map<string, boolean>();
function onPath(program: string, path: string): boolean {
  const cacheKey = `${program}\0${path}`;
  let yes = found.get(cacheKey);
  if (yes === undefined) {
    yes = path.split(delimiter).some((dir) => {
      if (!dir) return false;
      try {
        accessSync(join(dir, program), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    found.set(cacheKey, yes);
  }
  return yes;
}
