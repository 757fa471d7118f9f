// Prometheus metrics of the bot, on a registry of its own (never prom-client's global one, so
// tests and a second bot in one process don't share counters). Commands are counted from the
// audit records the engine already writes, so the numbers and the audit log can't disagree.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FetchFunction } from '@slack/web-api';
import type { AuditMirror, AuditRecord } from '../core/audit.js';

/** The outcomes the engine records; anything else is counted as `other` to keep labels bounded. */
export const OUTCOMES = ['ok', 'warn', 'fail', 'info', 'refused'] as const;

/** A finished backup, as the backup command measures it. */
export interface BackupMeasurement {
  /** Bytes written to the object store. */
  bytes: number;
  durationMs: number;
  ok: boolean;
  /** When it finished (ms since the epoch); now by default. */
  finishedAt?: number;
}

/** The narrow view a backup command needs, so it doesn't depend on the whole metrics object. */
export interface BackupMetrics {
  recordBackup(measurement: BackupMeasurement): void;
}

export interface OpsMetricsOptions {
  /** process_* and nodejs_* metrics (default true). */
  defaultMetrics?: boolean;
}

// Commands run from a fraction of a second (status) to many minutes (backups, scaling that
// waits for GPU workers), so the buckets span that whole range.
const COMMAND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
const BACKUP_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400];

// Label values come from outside (Slack error codes, method names): anything unexpected
// collapses to `other` so a misbehaving peer can't blow up the series count.
const SAFE_COMMAND = /^[a-z0-9][a-z0-9 _-]{0,63}$/;
const SAFE_SLACK_METHOD = /^[a-zA-Z0-9_.]{1,64}$/;
const SAFE_SLACK_ERROR = /^[a-zA-Z0-9_]{1,64}$/;
const bounded = (value: string | undefined, allowed: RegExp): string => (value !== undefined && allowed.test(value) ? value : 'other');

export class OpsMetrics implements BackupMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter<'command' | 'outcome'>;
  private readonly commandDuration: Histogram<'command'>;
  private readonly denials: Counter<'command'>;
  private readonly slackErrors: Counter<'method' | 'error'>;
  private readonly backupBytes: Counter;
  private readonly backupDuration: Histogram<'outcome'>;
  private readonly lastBackup: Gauge;

  constructor(opts: OpsMetricsOptions = {}) {
    const registers = [this.registry];
    this.commands = new Counter({
      name: 'vlinders_ops_commands_total',
      help: 'Commands that finished, by command and outcome (ok, warn, fail, info, refused).',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.commandDuration = new Histogram({
      name: 'vlinders_ops_command_duration_seconds',
      help: 'How long commands took, from the request (or the approval) to the outcome.',
      labelNames: ['command'],
      buckets: COMMAND_BUCKETS,
      registers,
    });
    this.denials = new Counter({
      name: 'vlinders_ops_denials_total',
      help: 'Commands refused by RBAC, by command.',
      labelNames: ['command'],
      registers,
    });
    this.slackErrors = new Counter({
      name: 'vlinders_ops_slack_api_errors_total',
      help: 'Failed Slack Web API calls, by method and Slack error code (ratelimited, http_NNN, request_failed, timeout included).',
      labelNames: ['method', 'error'],
      registers,
    });
    this.backupBytes = new Counter({
      name: 'vlinders_ops_backup_bytes_total',
      help: 'Bytes written to the object store by successful database backups.',
      registers,
    });
    this.backupDuration = new Histogram({
      name: 'vlinders_ops_backup_duration_seconds',
      help: 'How long database backups took, by outcome (ok, fail).',
      labelNames: ['outcome'],
      buckets: BACKUP_BUCKETS,
      registers,
    });
    this.lastBackup = new Gauge({
      name: 'vlinders_ops_last_successful_backup_timestamp_seconds',
      help: 'Unix time of the last successful database backup (0 until one succeeds in this process).',
      registers,
    });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of scrape(). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  commandFinished(command: string, outcome: string, durationMs?: number): void {
    const name = bounded(command, SAFE_COMMAND);
    const known = (OUTCOMES as readonly string[]).includes(outcome) ? outcome : 'other';
    this.commands.inc({ command: name, outcome: known });
    if (durationMs !== undefined && Number.isFinite(durationMs) && durationMs >= 0) {
      this.commandDuration.observe({ command: name }, durationMs / 1000);
    }
  }

  commandDenied(command: string): void {
    this.denials.inc({ command: bounded(command, SAFE_COMMAND) });
  }

  /** One failed Slack Web API call; `error` is Slack's error code (`channel_not_found`) or our own word for a transport failure. */
  slackApiError(method: string, error: string): void {
    this.slackErrors.inc({ method: bounded(method, SAFE_SLACK_METHOD), error: bounded(error, SAFE_SLACK_ERROR) });
  }

  recordBackup(m: BackupMeasurement): void {
    this.backupDuration.observe({ outcome: m.ok ? 'ok' : 'fail' }, Math.max(0, m.durationMs) / 1000);
    if (!m.ok) return;
    // Only completed backups count: an aborted one leaves no object behind (ARCHITECTURE safety rules).
    if (m.bytes > 0) this.backupBytes.inc(m.bytes);
    this.lastBackup.set((m.finishedAt ?? Date.now()) / 1000);
  }
}

/**
 * An audit observer that counts outcomes and denials. Sync and cheap: it runs on every
 * audit line, and the records it sees are already redacted.
 */
export function auditToMetrics(metrics: OpsMetrics): (record: AuditRecord) => void {
  return (record) => {
    if (!record.command) return;
    if (record.event === 'outcome' && record.outcome !== undefined) metrics.commandFinished(record.command, record.outcome, record.durationMs);
    else if (record.event === 'deny') metrics.commandDenied(record.command);
  };
}

/**
 * The engine takes one audit mirror: this one feeds the metrics first (synchronously, so a
 * scrape right after a command sees it), then hands the record to the next mirror (the audit
 * channel) when there is one.
 */
export function meteredAuditMirror(metrics: OpsMetrics, next?: AuditMirror): AuditMirror {
  const observe = auditToMetrics(metrics);
  return async (record) => {
    observe(record);
    if (next) await next(record);
  };
}

export interface SlackFetchOptions {
  /** The Web API base, as given to WebClient's `slackApiUrl`; https://slack.com/api/ by default. */
  apiUrl?: string;
  /** The fetch to wrap; globalThis.fetch by default. */
  fetch?: FetchFunction;
}

/** The Web API method a request URL names (`chat.postMessage`), or undefined for other URLs (response_url, file uploads). */
function slackMethodOf(url: string | URL, base: URL): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.origin !== base.origin || !u.pathname.startsWith(base.pathname)) return undefined;
  const method = u.pathname.slice(base.pathname.length);
  return method && !method.includes('/') ? method : undefined;
}

function transportError(err: unknown): string {
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'aborted';
  return 'request_failed';
}

/**
 * A fetch for WebClient's `clientOptions.fetch` that counts failed Web API calls. WebClient
 * (v8) has no error event or interceptor; everything it sends goes through this fetch, and
 * Bolt hands `clientOptions` to every WebClient it makes (app.client and the per-event ones).
 * Slack answers most errors with HTTP 200 and `{"ok":false,"error":"..."}`, so the body is
 * read from a clone before WebClient reads the original. Every attempt is counted: a call
 * WebClient retries after a 429 shows up once per 429.
 */
export function meteredSlackFetch(metrics: OpsMetrics, opts: SlackFetchOptions = {}): FetchFunction {
  const base = new URL(opts.apiUrl ?? 'https://slack.com/api/');
  const inner: FetchFunction = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
  return async (url, init) => {
    const method = slackMethodOf(url, base);
    if (!method) return inner(url, init);
    let response: Awaited<ReturnType<FetchFunction>>;
    try {
      response = await inner(url, init);
    } catch (err) {
      metrics.slackApiError(method, transportError(err));
      throw err;
    }
    if (response.status === 429) metrics.slackApiError(method, 'ratelimited');
    else if (response.status !== 200) metrics.slackApiError(method, `http_${response.status}`);
    else if ((response.headers.get('content-type') ?? '').includes('json') && 'clone' in response && typeof response.clone === 'function') {
      const copy = (response as Response).clone();
      try {
        const body = (await copy.json()) as { ok?: unknown; error?: unknown };
        if (body.ok === false) metrics.slackApiError(method, typeof body.error === 'string' ? body.error : 'unknown');
      } catch {
        // Not JSON after all: WebClient will say so to its caller; nothing to count here.
      }
    }
    return response;
  };
}
