// The README's command reference is generated from the definitions and must not drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { commandReference, withReference } from '../../src/cli/docs.js';
import { testCommands } from '../fixtures/commands.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README command reference', () => {
  it('matches the command definitions (run `npm run docs` after changing a command)', () => {
    expect(withReference(readme, commands)).toBe(readme);
  });

  it('lists every command with its usage, role and effect', () => {
    for (const c of commands) expect(readme).toContain(`| \`${c.usage}\` | ${c.summary} | ${c.role} |`);
  });

  it('would notice a new command', () => {
    const more = [...commands, ...testCommands({ runs: [] })];
    expect(withReference(readme, more)).not.toBe(readme);
    expect(commandReference(more)).toContain('test-destroy <target>');
  });
});
