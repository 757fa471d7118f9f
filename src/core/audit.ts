// Audit: one pino JSON line per event with `audit: true`, so Loki can select them.
// Arguments and details are redacted before they are written anywhere.
import type { Logger } from 'pino';
import { mentionChannel, mentionUser } from './mention.js';
import { redactText, redactValue } from './redact.js';

export type AuditEvent =
  | 'invoke'
  | 'usage_error'
  | 'deny'
  | 'confirm_requested'
  | 'approve'
  | 'cancel'
  | 'refuse'
  | 'outcome';

export interface AuditRecord {
  event: AuditEvent;
  user: string;
  channel: string;
  surface: 'slack' | 'cli';
  command?: string;
  /** The argument text as typed, redacted. */
  args?: string;
  outcome?: string;
  durationMs?: number;
  actionId?: string;
  requester?: string;
  detail?: string;
}

/** Where mirrored audit lines go (the audit channel); failures never block the action. */
export type AuditMirror = (record: AuditRecord) => Promise<void>;

export class Audit {
  constructor(
    private log: Logger,
    private mirror?: AuditMirror,
  ) {}

  record(record: AuditRecord): void {
    const clean: AuditRecord = redactValue({
      ...record,
      args: record.args === undefined ? undefined : redactText(record.args),
    });
    this.log.info({ audit: true, ...clean }, `audit ${clean.event}${clean.command ? ` ${clean.command}` : ''}`);
    if (this.mirror) {
      this.mirror(clean).catch((err: unknown) => this.log.warn({ err }, 'audit mirror failed'));
    }
  }
}

export function describeAudit(r: AuditRecord): string {
  const parts = [`*${r.event}*`, mentionUser(r.user)];
  if (r.command) parts.push(`\`${r.command}${r.args ? ` ${r.args}` : ''}\``);
  if (r.channel && r.channel !== 'cli') parts.push(`in ${mentionChannel(r.channel)}`);
  if (r.outcome) parts.push(`→ ${r.outcome}`);
  if (r.durationMs !== undefined) parts.push(`(${r.durationMs} ms)`);
  if (r.detail) parts.push(`: ${r.detail}`);
  return parts.join(' ');
}
