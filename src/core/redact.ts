// Secrets never leave: every string that goes to Slack, the terminal, logs or audit
// passes through here. Two nets: patterns for the shapes secrets take (provider tokens,
// auth headers, JSON keys, CLI flags, URLs with userinfo, key=value), and the exact values
// of every Secret the bot has read (from the cluster, or from its own environment), which
// no pattern could guess.

const REDACTED = '[REDACTED]';

/** Words that make a key, a flag or a header name a secret one. */
const SECRET_WORD = String.raw`(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|cookie)`;
/** A key naming a secret, with whatever identifier characters surround the word. */
const SECRET_KEY_NAME = String.raw`[A-Za-z0-9_.-]*${SECRET_WORD}[A-Za-z0-9_.-]*`;

/** A needle for the patterns that need a secret word in their key, flag or header name. */
const SECRET_WORD_NEEDLE = new RegExp(SECRET_WORD);

/**
 * Each pattern with its needle: text every match of the pattern contains (compared ignoring
 * case). Text holding no needle can hold no match, so most text, help lines and reports, is
 * scanned once instead of once a pattern. A new pattern comes with its needle.
 */
const PATTERNS: Array<[RegExp, string | ((...m: string[]) => string), RegExp]> = [
  // PEM private keys, also when a log cut the END line off.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED, /-----BEGIN /],
  // Provider token shapes. Slack: xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xapp-, webhook URLs.
  [/\bxox[abprse]-[A-Za-z0-9-]{8,}/g, REDACTED, /xox[abprse]-/],
  [/\bxapp-[A-Za-z0-9-]{8,}/g, REDACTED, /xapp-/],
  [/\bhooks\.slack\.com\/(services|workflows|triggers)\/[A-Za-z0-9/_-]+/g, (_m, kind) => `hooks.slack.com/${kind}/${REDACTED}`, /hooks\.slack\.com\//],
  // Hugging Face, GitHub (classic and fine-grained), GitLab, npm, PyPI
  [/\bhf_[A-Za-z0-9]{20,}/g, REDACTED, /hf_/],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED, /gh[pousr]_/],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED, /github_pat_/],
  [/\bglpat-[A-Za-z0-9_-]{20,}/g, REDACTED, /glpat-/],
  [/\bnpm_[A-Za-z0-9]{30,}/g, REDACTED, /npm_/],
  [/\bpypi-[A-Za-z0-9_-]{30,}/g, REDACTED, /pypi-/],
  // OpenAI / Anthropic (sk-, sk-proj-, sk-ant-), Stripe (sk_live_, rk_test_)
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED, /sk-/],
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]{8,}/g, REDACTED, /[sr]k_(?:live|test)_/],
  // Google API keys, SendGrid keys
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED, /AIza/],
  [/\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, REDACTED, /SG\./],
  // JWTs (three base64url parts, the first starting with eyJ)
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, REDACTED, /eyJ/],
  // AWS access key ids (the secret key is caught by its key name or the known values)
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, REDACTED, /AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA/],
  // Authorization headers, whatever the scheme (Bearer, Basic, Token, Digest…): the rest of the value goes
  [
    /\b((?:Proxy-)?Authorization["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Token|Digest|Negotiate|NTLM|ApiKey|AWS4-HMAC-SHA256|SSWS|GenieKey)\s+)?[^\s"',;][^\n"']*/gi,
    (_m, head, scheme) => `${head}${scheme ? `${scheme} ` : ''}${REDACTED}`,
    /authorization/,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`, /(?:bearer|basic)\s/],
  // Signed URLs (S3 presigned, GCS, Azure SAS)
  [/([?&](?:X-Amz-Signature|X-Amz-Security-Token|X-Goog-Signature|sig)=)[^&\s"']+/gi, (_m, head) => `${head}${REDACTED}`, /[?&](?:x-amz-signature|x-amz-security-token|x-goog-signature|sig)=/],
  // Cookies
  [/\b((?:Set-)?Cookie\s*:\s*)[^\n]+/gi, (_m, head) => `${head}${REDACTED}`, /cookie/],
  // user:password@ in URLs and connection strings (postgres://, redis://, amqp://, https://...),
  // and a lone token as userinfo (https://ghp_…@github.com)
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]+@/gi, (_m, prefix) => `${prefix}:${REDACTED}@`, /:\/\//],
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s:/@]{20,}@/gi, (_m, scheme) => `${scheme}${REDACTED}@`, /:\/\//],
  // curl -u user:password
  [/(\s(?:-u|--user)\s+["']?[^\s:"']+):[^\s"']+/g, (_m, head) => `${head}:${REDACTED}`, /\s(?:-u|--user)\s/],
  // Kubernetes env JSON: {"name":"DB_PASSWORD","value":"…"}
  [
    new RegExp(String.raw`("name"\s*:\s*"${SECRET_KEY_NAME}"\s*,\s*"value"\s*:\s*")(?:\\.|[^"\\])*"`, 'gi'),
    (_m, head) => `${head}${REDACTED}"`,
    SECRET_WORD_NEEDLE,
  ],
  // JSON and dict keys: "password": "…", 'token': '…', and JSON escaped inside a JSON string
  [new RegExp(String.raw`(\\"${SECRET_KEY_NAME}\\"\s*:\s*\\")(?:(?!\\").)*\\"`, 'gi'), (_m, head) => `${head}${REDACTED}\\"`, SECRET_WORD_NEEDLE],
  [new RegExp(String.raw`("${SECRET_KEY_NAME}"\s*:\s*")(?:\\.|[^"\\])*"`, 'gi'), (_m, head) => `${head}${REDACTED}"`, SECRET_WORD_NEEDLE],
  [new RegExp(String.raw`('${SECRET_KEY_NAME}'\s*:\s*')[^']*'`, 'gi'), (_m, head) => `${head}${REDACTED}'`, SECRET_WORD_NEEDLE],
  [new RegExp(String.raw`(["']${SECRET_KEY_NAME}["']\s*:\s*)(?!["'\[{\s]|null\b|true\b|false\b)[^\s,}\]]+`, 'gi'), (_m, head) => `${head}${REDACTED}`, SECRET_WORD_NEEDLE],
  // CLI flags: --password x, --api-key "x", -password x (the = form is key=value below)
  [
    new RegExp(String.raw`((?<!\S)--?${SECRET_KEY_NAME})(\s+)("[^"]*"|'[^']*'|(?!-)[^\s"']+)`, 'gi'),
    (_m, flag, space) => `${flag}${space}${REDACTED}`,
    SECRET_WORD_NEEDLE,
  ],
  // key=value, key: value, key => value where the key names a secret (libpq DSNs, env dumps, YAML, query strings)
  [
    // (a value that is itself a secret key's assignment is left to the match that starts there)
    new RegExp(String.raw`\b(${SECRET_KEY_NAME})(\s*(?:=>|[=:])\s*)(?!${SECRET_KEY_NAME}\s*(?:=>|[=:]))("[^"]*"|'[^']*'|[^\s,;&"']+)`, 'gi'),
    (_m, key, sep) => `${key}${sep}${REDACTED}`,
    SECRET_WORD_NEEDLE,
  ],
];

/** Whether text may hold a match of any pattern: one scan for all the needles, each once. */
const MAY_MATCH = new RegExp([...new Set(PATTERNS.map(([, , needle]) => needle.source))].map((source) => `(?:${source})`).join('|'), 'i');

/**
 * Exact secret values the bot has read, longest first, so a value containing another is
 * removed whole. Shorter values would redact ordinary words, so they are not kept.
 */
const known = new Set<string>();
let knownSorted: string[] = [];
const MIN_KNOWN_LENGTH = 6;
let envScanned = false;

/** Remembers a secret value (and its base64 form) so it is redacted wherever it appears. */
export function rememberSecret(value: string): void {
  const forms = [value, Buffer.from(value, 'utf8').toString('base64')];
  // A multi-line value (a PEM key, a config file) can leak a line at a time; PEM armor lines are no secret.
  for (const line of value.split('\n')) if (line.trim().length >= 16 && !line.startsWith('-----')) forms.push(line.trim());
  let added = false;
  for (const form of forms) {
    if (form.length < MIN_KNOWN_LENGTH || known.has(form)) continue;
    known.add(form);
    added = true;
  }
  if (added) knownSorted = [...known].sort((a, b) => b.length - a.length);
}

/**
 * Keys of a Secret that hold names, addresses and public halves rather than secrets
 * (username, POSTGRES_USER, db-host, tls.crt, id_rsa.pub): redacting those would hide
 * ordinary words such as the database's name everywhere.
 */
const NOT_SECRET_KEY = /(^|[_.-])(user(name)?|login|host(name)?|port|db(name)?|database|name|namespace|email|ca|crt|cert|pub)$/i;

/** Every value of a Kubernetes Secret (or a list of them) the bot has read, but user names and public certificates. */
export function rememberKubeSecret(secret: unknown): void {
  const items = (secret as { items?: unknown[] } | undefined)?.items ?? [secret];
  for (const item of items) {
    const s = item as { data?: Record<string, string> | null; stringData?: Record<string, string> | null } | undefined;
    for (const [key, b64] of Object.entries(s?.data ?? {})) {
      if (!NOT_SECRET_KEY.test(key) && typeof b64 === 'string') rememberSecret(Buffer.from(b64, 'base64').toString('utf8'));
    }
    for (const [key, value] of Object.entries(s?.stringData ?? {})) {
      if (!NOT_SECRET_KEY.test(key) && typeof value === 'string') rememberSecret(value);
    }
  }
}

const SECRET_ENV = /password|passwd|secret|token|api_?key|access_?key|private_?key|credential|dsn|database_url/i;

/** The values of secret-looking environment variables (SLACK_BOT_TOKEN, AWS_SECRET_ACCESS_KEY, PGPASSWORD…). */
export function rememberEnvSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) if (value && SECRET_ENV.test(name)) rememberSecret(value);
}

export function redactText(text: string): string {
  if (!envScanned) {
    // The bot's own environment is read once, on the first redaction: nothing can be said before it.
    envScanned = true;
    rememberEnvSecrets();
  }
  let out = text;
  for (const value of knownSorted) if (out.includes(value)) out = out.split(value).join(REDACTED);
  if (!MAY_MATCH.test(out)) return out;
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
  // An Error's message, stack and cause are not enumerable: copied by name, or the log says `{}`.
  const entries = value instanceof Error ? errorEntries(value) : Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redactInner(v, seen);
  }
  return out;
}

function errorEntries(err: Error): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [
    ['type', err.name],
    ['message', err.message],
    ['stack', err.stack],
  ];
  if (err.cause !== undefined) entries.push(['cause', err.cause]);
  if (err instanceof AggregateError) entries.push(['errors', err.errors]);
  // Own fields such as code, status, errno or a client's response body.
  for (const [k, v] of Object.entries(err)) if (!['name', 'message', 'stack', 'cause', 'errors'].includes(k)) entries.push([k, v]);
  return entries.filter(([, v]) => v !== undefined);
}
