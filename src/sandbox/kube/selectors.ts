// Label and field selectors with the real server's grammar and error texts.
import { badRequest } from './status.js';

export type Matcher = (labels: Readonly<Record<string, string>>) => boolean;

interface Requirement {
  key: string;
  op: 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

/** Splits on commas outside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function parseRequirement(part: string): Requirement {
  let m: RegExpMatchArray | null;
  let req: Requirement;
  if ((m = part.match(/^!\s*(\S+)$/))) req = { key: m[1] as string, op: '!', values: [] };
  else if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/)))
    req = { key: m[1] as string, op: m[2] as 'in' | 'notin', values: (m[3] as string).split(',').map((v) => v.trim()) };
  else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/)))
    req = { key: m[1] as string, op: m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : '=', values: [m[3] as string] };
  else if (/^\S+$/.test(part)) req = { key: part, op: 'exists', values: [] };
  else throw badRequest(`unable to parse requirement: found '${part}', expected: identifier`);
  if (!KEY.test(req.key)) throw badRequest(`unable to parse requirement: invalid label key "${req.key}"`);
  for (const v of req.values) if (!VALUE.test(v) && req.op !== 'gt' && req.op !== 'lt') throw badRequest(`unable to parse requirement: invalid label value: "${v}"`);
  return req;
}

export function parseLabelSelector(selector: string | null | undefined): Matcher | undefined {
  if (!selector?.trim()) return undefined;
  const reqs = splitTop(selector).map(parseRequirement);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'exists':
          return has;
        case '!':
          return !has;
        case '=':
          return has && v === r.values[0];
        case '!=':
          return !has || v !== r.values[0];
        case 'in':
          return has && r.values.includes(v as string);
        case 'notin':
          return !has || !r.values.includes(v as string);
        case 'gt':
          return has && Number(v) > Number(r.values[0]);
        case 'lt':
          return has && Number(v) < Number(r.values[0]);
      }
    });
}

export type FieldMatcher = (fields: Readonly<Record<string, string>>) => boolean;

/** Field selectors over the fields the store indexes; any other field is a 400 as on a real server. */
export function parseFieldSelector(selector: string | null | undefined, supported: readonly string[]): FieldMatcher | undefined {
  if (!selector?.trim()) return undefined;
  const reqs = splitTop(selector).map((part) => {
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = m[1] as string;
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, neg: m[2] === '!=', value: m[3] as string };
  });
  // Absent fields compare as "" (e.g. spec.nodeName= selects unscheduled pods).
  return (fields) => reqs.every((r) => ((fields[r.field] ?? '') === r.value) !== r.neg);
}

/** A metav1.LabelSelector object (matchLabels and matchExpressions), as a PodDisruptionBudget holds it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/**
 * The matcher of a LabelSelector object; undefined when it is nil or empty, which in policy/v1
 * selects no pod at all (LabelSelectorAsSelector gives Nothing for nil; eviction skips empty ones).
 */
export function labelSelectorMatcher(selector: LabelSelector | undefined): Matcher | undefined {
  const labels = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  if (!labels.length && !expressions.length) return undefined;
  return (have) =>
    labels.every(([k, v]) => have[k] === v) &&
    expressions.every((e) => {
      const has = Object.hasOwn(have, e.key);
      if (e.operator === 'Exists') return has;
      if (e.operator === 'DoesNotExist') return !has;
      const inValues = has && (e.values ?? []).includes(have[e.key] as string);
      return e.operator === 'In' ? inValues : !inValues;
    });
}
