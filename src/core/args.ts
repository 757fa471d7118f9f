// Argument text is split like a POSIX shell splits words (quotes, backslashes) but is
// never given to one. The words are then bound to a command's zod schema:
// positionals by the command's `positional` list, `--flag value`, `--flag=value`,
// and bare `--flag` for booleans.
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { UsageError } from './errors.js';

export function tokenize(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  // Slack turns quotes into smart quotes on some clients; treat them as plain ones.
  const src = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  for (let i = 0; i < src.length; i++) {
    const ch = src[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && (src[i + 1] === '"' || src[i + 1] === '\\')) word += src[++i];
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < src.length) {
      word += src[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unclosed ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) words.push(word);
  return words;
}

export interface ArgSpec {
  /** Schema keys filled by position, in order. */
  positional?: readonly string[];
  /** A schema key that takes every remaining word, joined by spaces (free text). */
  rest?: string;
  /** Flags taken before the schema sees the words (--cluster): offered when a flag is mistyped. */
  globalFlags?: readonly string[];
}

/** " Did you mean --x?" for the known flag nearest a mistyped one, or "". */
function nearestFlag(name: string, shape: Shape, spec: ArgSpec): string {
  const flags = [...Object.keys(shape).filter((k) => k !== spec.rest && !spec.positional?.includes(k)).map(kebab), ...(spec.globalFlags ?? [])];
  if (flags.length === 0) return '';
  const best = closest(name, flags);
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) || best.startsWith(name) ? ` Did you mean --${best}?` : '';
}

type Shape = Record<string, z.ZodType>;

/** The base kind of a schema field, seen through optional/default/nullable wrappers. */
function fieldKind(schema: z.ZodType): string {
  let s: unknown = schema;
  for (let depth = 0; depth < 10; depth++) {
    const def = (s as { _zod?: { def?: { type?: string; innerType?: unknown; in?: unknown } } })._zod?.def;
    if (!def?.type) return 'unknown';
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') {
      s = def.innerType;
    } else if (def.type === 'pipe') {
      s = def.in;
    } else {
      return def.type;
    }
  }
  return 'unknown';
}

const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Binds words to a raw object ready for the schema; throws UsageError on unknown flags or extra words. */
export function bindWords(words: string[], shape: Shape, spec: ArgSpec): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const positionals: string[] = [];
  let flagsDone = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (!flagsDone && word === '--') {
      flagsDone = true;
      continue;
    }
    if (!flagsDone && /^--[a-zA-Z]/.test(word)) {
      const eq = word.indexOf('=');
      const name = eq === -1 ? word.slice(2) : word.slice(2, eq);
      const key = camel(name);
      const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (!field || key === spec.rest || spec.positional?.includes(key)) {
        throw new UsageError(`unknown option --${name}.${nearestFlag(name, shape, spec)}`);
      }
      if (Object.hasOwn(raw, key)) throw new UsageError(`--${name} given twice`);
      if (fieldKind(field) === 'boolean') {
        if (eq === -1) raw[key] = true;
        else {
          const v = word.slice(eq + 1).toLowerCase();
          if (v !== 'true' && v !== 'false') throw new UsageError(`--${name} takes no value, or =true / =false`);
          raw[key] = v === 'true';
        }
      } else if (eq !== -1) {
        raw[key] = word.slice(eq + 1);
      } else {
        const next = words[i + 1];
        if (next === undefined || /^--[a-zA-Z]/.test(next)) throw new UsageError(`--${name} needs a value`);
        raw[key] = next;
        i++;
      }
      continue;
    }
    positionals.push(word);
  }
  const names = spec.positional ?? [];
  names.forEach((key, idx) => {
    if (idx < positionals.length) raw[key] = positionals[idx];
  });
  const extra = positionals.slice(names.length);
  if (spec.rest) {
    if (extra.length > 0) raw[spec.rest] = extra.join(' ');
  } else if (extra.length > 0) {
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.join(' ')}`);
  }
  return raw;
}

/** Words → validated, typed arguments. Every failure is a UsageError with a readable message. */
export function parseArgs<S extends z.ZodObject<Shape>>(words: string[], schema: S, spec: ArgSpec): z.output<S> {
  const raw = bindWords(words, schema.shape as Shape, spec);
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      const isPositional = spec.positional?.includes(key) || spec.rest === key;
      const label = key === '' ? 'arguments' : isPositional ? `<${kebab(key)}>` : `--${kebab(key)}`;
      if (issue.code === 'invalid_type' && raw[key] === undefined) return `${label} is required`;
      return `${label}: ${issue.message}`;
    });
    throw new UsageError(problems.join('; '));
  }
  return result.data;
}
