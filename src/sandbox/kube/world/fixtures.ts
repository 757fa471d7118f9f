// The captured reference data the sandbox plays back (nvidia-smi, Ray's documented answers):
// test/fixtures/captured in this repository, with SOURCES.md naming where each capture came
// from. Found by walking up to the package root, so the sources and the compiled dist/ both
// find it; never a path outside the repository.
import { existsSync, readFileSync } from 'node:fs';

function findCaptures(): URL {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    const candidate = new URL('test/fixtures/captured/', dir);
    if (existsSync(new URL('SOURCES.md', candidate))) return candidate;
    // The package root ends the walk: above it is not the repository.
    if (existsSync(new URL('package.json', dir))) break;
  }
  throw new Error('test/fixtures/captured is missing from this checkout: the sandbox plays back its captures from there');
}

let captures: URL | undefined;

/** Where the captures are (test/fixtures/captured/), found on first use. */
export function capturesDir(): URL {
  return (captures ??= findCaptures());
}

const cache = new Map<string, string>();

/** A capture's text, read once (exec handlers answer synchronously whether they handle a command). */
export function readFixture(relative: string): string {
  let text = cache.get(relative);
  if (text === undefined) cache.set(relative, (text = readFileSync(new URL(relative, capturesDir()), 'utf8')));
  return text;
}
