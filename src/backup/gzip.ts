// The gzip a backup is written and read with (config.backup.gzip):
//   - `igzip`: ISA-L's igzip as a child process (argv only). At level 1 it compresses about
//     5× faster than zlib (bench/backup.ts: 850 MB of SQL in 2.5 s of CPU against 13 s), and
//     the backup's speed is its compression's: on a small pod zlib can't keep pace with pg_dump.
//   - `zlib`: Node's zlib on the thread pool (ParallelGzip), when igzip isn't installed.
//   - `auto` (default): igzip when it is on PATH, else zlib.
// Both write standard gzip (.sql.gz): gunzip, zcat and either codec read what the other wrote.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
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
}

const zlibCodec: GzipCodec = {
  name: 'zlib',
  compress: () => new ParallelGzip(LEVEL),
  decompress: () => createGunzip(),
};

/**
 * igzip's stdin/stdout as one stream. execa's duplex errors when igzip exits non-zero or is
 * killed, instead of ending, so a cut-off compression can't pass for a whole one; destroying
 * it (the upload failed) ends igzip.
 */
const igzipCodec: GzipCodec = {
  name: 'igzip',
  compress: () => igzip([`-${LEVEL}`, '-c']),
  decompress: () => igzip(['-d', '-c']),
};

function igzip(args: string[]): Duplex {
  return execa('igzip', args, { buffer: { stdout: false }, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', maxBuffer: { stderr: 64 * 1024 } }).duplex();
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
