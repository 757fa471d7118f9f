// The three scheduled reports by name, for `digest <kind>` and the scheduler alike.
import type { Report } from '../core/report.js';
import type { Store } from '../core/store.js';
import { recordedAlertThreads } from '../incidents/alert-threads.js';
import { recordedIncidents } from '../incidents/incidents.js';
import type { ReportInputs } from './context.js';
import { buildDailyDigest } from './daily.js';
import { buildMonthlyReport } from './monthly.js';
import type { BotRecords } from './sources.js';
import { buildWeeklyReport } from './weekly.js';

export const DIGEST_KINDS = ['daily', 'weekly', 'monthly'] as const;
export type DigestKind = (typeof DIGEST_KINDS)[number];

export async function buildDigest(kind: DigestKind, inputs: ReportInputs): Promise<Report> {
  if (kind === 'daily') return (await buildDailyDigest(inputs)).report;
  return kind === 'weekly' ? buildWeeklyReport(inputs) : buildMonthlyReport(inputs);
}

/** The bot's records as kept in its store (alert threads from the webhook, declared incidents). */
export function storeRecords(store: Store): BotRecords {
  return { alertThreads: () => recordedAlertThreads(store), incidents: () => recordedIncidents(store) };
}
