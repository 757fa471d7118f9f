// The one list of runbook commands: every other file in this folder default-exports a
// defineCommand(...). Found by reading the folder, so adding a command is one file here
// and one test, and touches nothing else.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from '../src/core/command.js';

const here = dirname(fileURLToPath(import.meta.url));

async function discover(): Promise<Command[]> {
  const files = readdirSync(here)
    .filter((f) => /\.(ts|js)$/.test(f) && !/^index\./.test(f) && !/\.d\.ts$/.test(f) && !/\.test\./.test(f))
    .sort();
  const found: Command[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as { default?: Command };
    if (!mod.default?.name || typeof mod.default.run !== 'function') {
      throw new Error(`commands/${file} must default-export defineCommand({...})`);
    }
    found.push(mod.default);
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

export const commands: readonly Command[] = await discover();
