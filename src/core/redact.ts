// Secrets never leave: every string that goes to Slack, the terminal, logs or audit
// passes through here. Patterns cover what this platform handles: Slack tokens,
// bearer tokens, JWTs, AWS keys, connection strings and key=value secrets.

const REDACTED = '[REDACTED]';

const PATTERNS: Array<[RegExp, string | ((...m: string[]) => string)]> = [
  // Slack tokens: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xapp-
  [/\bxox[abprse]-[A-Za-z0-9-]{8,}/g, REDACTED],
  [/\bxapp-[A-Za-z0-9-]{8,}/g, REDACTED],
  // JWTs (three base64url parts, the first starting with eyJ)
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, REDACTED],
  // Authorization headers
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  // AWS access key ids
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // PEM private keys
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
  // user:password@ in URLs and connection strings (postgres://, redis://, amqp://, https://...)
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]+@/gi, (_m, prefix) => `${prefix}:${REDACTED}@`],
  // key=value and key: value where the key names a secret (libpq DSNs, env dumps, YAML)
  [
    /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)/gi,
    (_m, key, sep) => `${key}${sep}${REDACTED}`,
  ],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) {
    out = out.replace(re, replacement as (substring: string, ...args: string[]) => string);
  }
  return out;
}

const SECRET_KEY = /password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|cookie/i;

/** Deep copy with every secret-named key's value and every secret-looking string redacted. */
export function redactValue<T>(value: T): T {
  return redactInner(value, new WeakSet()) as T;
}

function redactInner(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactInner(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactInner(v, seen);
  }
  return out;
}
