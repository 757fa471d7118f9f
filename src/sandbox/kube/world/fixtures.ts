// The captured reference data in ../shared/fixtures, beside the repository (as CI clones it):
// the nearest shared/fixtures above this file, so the sources and the compiled dist/ find it.
import { existsSync, readFileSync } from 'node:fs';

function findFixtures(): URL {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    const candidate = new URL('shared/fixtures/', dir);
    if (existsSync(candidate)) return candidate;
  }
  return new URL('../../../../../shared/fixtures/', import.meta.url);
}

export const FIXTURES = findFixtures();

const cache = new Map<string, string>();

/** A fixture's text, read once (exec handlers answer synchronously whether they handle a command). */
export function readFixture(relative: string): string {
  let text = cache.get(relative);
  if (text === undefined) cache.set(relative, (text = readFileSync(new URL(relative, FIXTURES), 'utf8')));
  return text;
}
