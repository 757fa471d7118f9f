// The captured reference data in ../shared/fixtures, found relative to this file: CI clones
// the repository elsewhere with shared/ beside it (world/ → kube/ → sandbox/ → src/ → repo → ..).
import { readFileSync } from 'node:fs';

export const FIXTURES = new URL('../../../../../shared/fixtures/', import.meta.url);

const cache = new Map<string, string>();

/** A fixture's text, read once (exec handlers answer synchronously whether they handle a command). */
export function readFixture(relative: string): string {
  let text = cache.get(relative);
  if (text === undefined) cache.set(relative, (text = readFileSync(new URL(relative, FIXTURES), 'utf8')));
  return text;
}
