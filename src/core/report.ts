// The one output model of every command. Commands never know Slack or the terminal:
// src/slack renders a Report to Block Kit, src/cli renders it to text or JSON.

import type { LineChart } from '../charts/spec.js';
import { redactText } from './redact.js';

export type ReportStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface ReportField {
  label: string;
  value: string;
}

export interface ReportSection {
  title?: string;
  /** Short key/value pairs, shown side by side where the surface allows. */
  fields?: ReportField[];
  /** Table-like rows; the first row is not a header unless `header` is set. */
  header?: string[];
  rows?: string[][];
  /** Free lines of text (mrkdwn-light: *bold*, `code`). */
  lines?: string[];
}

export interface ReportAttachment {
  filename: string;
  title?: string;
  content: string;
}

export interface Report {
  title: string;
  status: ReportStatus;
  summary?: string;
  sections?: ReportSection[];
  /** Long text that belongs in a file rather than a message (logs, dumps). */
  attachments?: ReportAttachment[];
  /** Line charts; Slack uploads each as a PNG with its alt text, the terminal writes them with --chart FILE. */
  charts?: LineChart[];
  /** A preview for the caller only (Slack: an ephemeral message); the terminal ignores it. */
  ephemeral?: boolean;
  /**
   * Details that follow in the thread of this report's first message (Slack), so the channel
   * sees one compact message; the terminal prints them after it.
   */
  thread?: Report[];
  /** Runbook commands offered as buttons; a click runs the command as the clicker, through confirmation. */
  offers?: ReportOffer[];
}

export interface ReportOffer {
  /** Why it is offered, shown beside the button. */
  intro: string;
  /** The command's words, e.g. ['restore-drill']. */
  words: string[];
}

export const STATUS_EMOJI: Record<ReportStatus, string> = {
  ok: '✅',
  warn: '⚠️',
  fail: '❌',
  info: 'ℹ️',
};

/** The worst of several statuses: fail > warn > ok > info. */
export function worstStatus(statuses: ReportStatus[]): ReportStatus {
  const rank: Record<ReportStatus, number> = { info: 0, ok: 1, warn: 2, fail: 3 };
  return statuses.reduce<ReportStatus>((worst, s) => (rank[s] > rank[worst] ? s : worst), 'info');
}

/** Every string a command returns is redacted before any surface sees it. */
export function redactReport(report: Report & { pin?: unknown }): Report {
  const thread = report.thread?.map(redactReport);
  const r = (s: string) => redactText(s);
  const { pin: _pin, ...shown } = report;
  return {
    ...shown,
    title: r(report.title),
    summary: report.summary === undefined ? undefined : r(report.summary),
    sections: report.sections?.map((s) => ({
      ...s,
      title: s.title === undefined ? undefined : r(s.title),
      fields: s.fields?.map((f) => ({ label: r(f.label), value: r(f.value) })),
      header: s.header?.map(r),
      rows: s.rows?.map((row) => row.map(r)),
      lines: s.lines?.map(r),
    })),
    attachments: shown.attachments?.map((a) => ({ filename: r(a.filename), title: a.title === undefined ? undefined : r(a.title), content: r(a.content) })),
    offers: shown.offers?.map((o) => ({ ...o, intro: r(o.intro) })),
    charts: shown.charts?.map((c) => ({ ...c, title: r(c.title), note: c.note === undefined ? undefined : r(c.note), series: c.series.map((s) => ({ ...s, name: r(s.name) })) })),
    ...(thread ? { thread } : {}),
  };
}

/** What a report's own lines say is wrong: ❌ and ⚠️ items, and what could not be read. */
export interface ProblemTally {
  fail: number;
  warn: number;
  unread: number;
}

// How the builders mark an item they could not read ("⚠️ not read: …", "not measured: …"). A
// source left out of the config on purpose ("… is not configured") is a choice, not a failure.
const UNREAD = /\bnot (?:read|measured|checked|counted)\b|\bunknown \(/;
const UNCONFIGURED = /\bis not configured\b/;

/** Counts the marked items in a report's sections (lines, rows, field values), for its headline. */
export function tallyProblems(sections: readonly ReportSection[] | undefined): ProblemTally {
  const tally: ProblemTally = { fail: 0, warn: 0, unread: 0 };
  for (const s of sections ?? []) {
    const items = [...(s.lines ?? []), ...(s.rows ?? []).map((r) => r.join(' ')), ...(s.fields ?? []).map((f) => f.value)];
    for (const item of items) {
      if (UNREAD.test(item) && !UNCONFIGURED.test(item)) tally.unread++;
      else if (item.includes('❌')) tally.fail++;
      else if (item.includes('⚠️')) tally.warn++;
    }
  }
  return tally;
}

/** "2 ❌ · 1 ⚠️ · 1 not read", or "" when the tally is clean. */
export function tallyLine(t: ProblemTally): string {
  return [t.fail ? `${t.fail} ❌` : '', t.warn ? `${t.warn} ⚠️` : '', t.unread ? `${t.unread} not read` : ''].filter(Boolean).join(' · ');
}
