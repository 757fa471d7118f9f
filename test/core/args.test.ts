import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseArgs, tokenize } from '../../src/core/args.js';
import { UsageError } from '../../src/core/errors.js';

describe('tokenize', () => {
  it.each([
    ['scale-gpu 5', ['scale-gpu', '5']],
    ['  a   b  ', ['a', 'b']],
    [`incident open "GPU node down" --sev 2`, ['incident', 'open', 'GPU node down', '--sev', '2']],
    [`a 'single quoted' b`, ['a', 'single quoted', 'b']],
    [`a "with \\"escaped\\" quotes"`, ['a', 'with "escaped" quotes']],
    [`a\\ b c`, ['a b', 'c']],
    [`--group=gpu-workers`, ['--group=gpu-workers']],
    [`""`, ['']],
    ['“smart quotes” too', ['smart quotes', 'too']],
    ['$(rm -rf /); `id` | cat > x', ['$(rm', '-rf', '/);', '`id`', '|', 'cat', '>', 'x']],
  ])('%s', (input, words) => {
    expect(tokenize(input)).toEqual(words);
  });

  it('rejects an unclosed quote', () => {
    expect(() => tokenize('a "b')).toThrow(UsageError);
  });
});

describe('parseArgs', () => {
  const schema = z.object({
    replicas: z.coerce.number().int().min(0),
    group: z.string().optional(),
    dryRun: z.boolean().default(false),
  });
  const spec = { positional: ['replicas'] };

  it('binds positionals, --flag value, --flag=value and boolean flags', () => {
    expect(parseArgs(['5', '--group', 'gpu'], schema, spec)).toEqual({ replicas: 5, group: 'gpu', dryRun: false });
    expect(parseArgs(['--group=gpu', '5', '--dry-run'], schema, spec)).toEqual({ replicas: 5, group: 'gpu', dryRun: true });
    expect(parseArgs(['5', '--dry-run=false'], schema, spec)).toEqual({ replicas: 5, dryRun: false });
  });

  it.each([
    [[], '<replicas> is required'],
    [['five'], '<replicas>:'],
    [['5', '6'], 'unexpected argument: 6'],
    [['5', '--size', '3'], 'unknown option --size'],
    [['5', '--group'], '--group needs a value'],
    [['5', '--group', 'a', '--group', 'b'], '--group given twice'],
    [['--replicas', '5'], 'unknown option --replicas'],
    [['-1'], '<replicas>:'],
  ])('%j is a usage error mentioning %s', (words, message) => {
    expect(() => parseArgs(words, schema, spec)).toThrow(UsageError);
    expect(() => parseArgs(words, schema, spec)).toThrow(message);
  });

  it('collects free text into the rest key', () => {
    const s = z.object({ text: z.string().min(1) });
    expect(parseArgs(['GPU', 'node', 'down'], s, { rest: 'text' })).toEqual({ text: 'GPU node down' });
  });

  it('does not let a name like __proto__ reach the object', () => {
    expect(() => parseArgs(['5', '--__proto__', 'x'], schema, spec)).toThrow(UsageError);
    expect(() => parseArgs(['5', '--constructor', 'x'], schema, spec)).toThrow('unknown option --constructor');
  });
});
