// The two gzip codecs of backups: each writes standard gzip that the other and Debian's gzip
// read; `auto` picks igzip only when it is on PATH; a failing compressor or a corrupt input
// ends in an error, never in a clean end that would let a cut-off backup pass for a whole one.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipCodec } from '../../src/backup/gzip.js';

/** Dump-like text (COPY rows compress the way a real dump does) and incompressible bytes. */
const sql = Buffer.from(
  Array.from({ length: 60_000 }, (_, i) => `${i}\t${i % 977}\tuser${i}@example.com\t${(i * 2654435761) % 4294967296}\n`).join('') + '-- PostgreSQL database dump complete\n',
);
const noise = randomBytes(3 << 20);

async function through(stream: Duplex, input: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from((function* () {
      for (let i = 0; i < input.length; i += chunk) yield input.subarray(i, i + chunk);
    })()),
    stream,
    new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }),
  );
  return Buffer.concat(out);
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function pathWith(programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-path-'));
  dirs.push(dir);
  for (const p of programs) symlinkSync(execFileSync('which', [p], { encoding: 'utf8' }).trim(), join(dir, p));
  return dir;
}

describe('gzip codecs', () => {
  const igzip = gzipCodec('igzip');
  const zlib = gzipCodec('zlib');

  it.each([
    ['igzip', 'zlib'],
    ['zlib', 'igzip'],
  ] as const)('%s writes gzip that %s and Debian gzip read back byte for byte', async (writer, reader) => {
    const [w, r] = writer === 'igzip' ? [igzip, zlib] : [zlib, igzip];
    for (const input of [sql, noise]) {
      const gz = await through(w.compress(), input);
      expect(gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      if (input === sql) expect(gz.length).toBeLessThan(input.length / 2);
      expect((await through(r.decompress(), gz)).equals(input), `${reader} reads ${writer}`).toBe(true);
      expect(execFileSync('gzip', ['-d', '-c'], { input: gz, maxBuffer: 64 << 20 }).equals(input), `gzip -d reads ${writer}`).toBe(true);
    }
  });

  it('auto is igzip when igzip is on PATH, and zlib when it is not', () => {
    expect(gzipCodec('auto', pathWith(['igzip'])).name).toBe('igzip');
    expect(gzipCodec('auto', pathWith(['gzip'])).name).toBe('zlib');
    expect(gzipCodec('auto', '').name).toBe('zlib');
    expect(gzipCodec('zlib', pathWith(['igzip'])).name).toBe('zlib');
  });

  it.each([
    ['igzip', igzip],
    ['zlib', zlib],
  ] as const)('%s errors on a truncated or corrupt input instead of ending', async (_name, codec) => {
    const gz = await through(codec.compress(), sql);
    await expect(through(codec.decompress(), gz.subarray(0, gz.length - 1000))).rejects.toThrow();
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 4000, 5000);
    await expect(through(codec.decompress(), corrupt)).rejects.toThrow();
  });

  it('igzip that is not installed fails with a message naming it', async () => {
    const saved = process.env.PATH;
    process.env.PATH = pathWith(['gzip']);
    try {
      await expect(through(gzipCodec('igzip').compress(), sql)).rejects.toThrow(/igzip.*ENOENT|ENOENT.*igzip/s);
    } finally {
      process.env.PATH = saved;
    }
  });

});
