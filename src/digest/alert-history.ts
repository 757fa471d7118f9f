// "Alert history" for the weekly report. Alertmanager's API v2 has no history: GET
// /api/v2/alerts lists only the alerts it holds now. So the history is what the bot itself
// recorded from the webhook (one entry per alert group it opened a thread for, kept in its
// store) over the period, beside what Alertmanager holds at report time, and the incidents
// people declared. The section says so, so nobody reads it as Alertmanager's own record.
import { errorMessage } from '../core/errors.js';
import type { ReportSection, ReportStatus } from '../core/report.js';
import type { AlertmanagerClient } from '../prometheus/alertmanager-api.js';
import { plural } from './format.js';
import type { BotRecords } from './sources.js';

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export interface AlertHistory {
  sections: ReportSection[];
  status: ReportStatus;
  /** Alert groups opened in the period (recorded by the bot). */
  groups: number;
  /** Alerts Alertmanager holds now, or undefined when not asked or unreachable. */
  current?: number;
}

export async function alertHistory(opts: { records?: BotRecords; alertmanager?: AlertmanagerClient; since: number; signal?: AbortSignal }): Promise<AlertHistory> {
  const sections: ReportSection[] = [];
  const statuses: ReportStatus[] = [];
  let groups = 0;
  let current: number | undefined;
  const note = 'Alertmanager keeps no history (API v2 lists only current alerts): the groups below are those the bot recorded from its webhook.';

  if (!opts.records) {
    sections.push({ title: 'Alert groups this week', lines: ['not recorded here: alert threads are kept by the bot in Slack (alerts.channel)'] });
  } else {
    try {
      const threads = (await opts.records.alertThreads()).filter((t) => t.openedAt >= opts.since || (t.resolvedAt ?? Infinity) >= opts.since).sort((a, b) => a.openedAt - b.openedAt);
      groups = threads.filter((t) => t.openedAt >= opts.since).length;
      const byName = new Map<string, number>();
      for (const t of threads) byName.set(t.name ?? '(no alertname)', (byName.get(t.name ?? '(no alertname)') ?? 0) + 1);
      const still = threads.filter((t) => t.status === 'firing').length;
      if (still > 0) statuses.push('warn');
      sections.push({
        title: `Alert groups this week: ${threads.length}`,
        lines: [note, threads.length === 0 ? 'no alert opened a thread this week' : `by alertname: ${[...byName].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ×${c}`).join(', ')}; ${plural(still, 'group')} still firing`],
        ...(threads.length > 0
          ? { header: ['alert', 'severity', 'opened', 'status', 'notifications'], rows: threads.map((t) => [t.name ?? '?', t.severity ?? '-', when(t.openedAt), t.status === 'resolved' && t.resolvedAt ? `resolved ${when(t.resolvedAt)}` : t.status, String(t.notifications)]) }
          : {}),
      });
      const incidents = (await opts.records.incidents()).filter((i) => i.openedAt >= opts.since || (i.resolvedAt ?? Infinity) >= opts.since);
      sections.push({
        title: `Declared incidents this week: ${incidents.length}`,
        ...(incidents.length > 0
          ? { header: ['incident', 'sev', 'opened', 'status'], rows: incidents.map((i) => [`#${i.number} ${i.title}`, `SEV${i.sev}`, when(i.openedAt), i.status]) }
          : { lines: ['none'] }),
      });
    } catch (err) {
      statuses.push('warn');
      sections.push({ title: 'Alert groups this week', lines: [`⚠️ could not read the bot's records: ${errorMessage(err)}`] });
    }
  }

  if (!opts.alertmanager) {
    sections.push({ title: 'Alertmanager now', lines: ['not asked: prometheus.alertmanagerUrl is not configured'] });
  } else {
    try {
      const alerts = await opts.alertmanager.alerts({ signal: opts.signal });
      current = alerts.length;
      const active = alerts.filter((a) => a.status.state === 'active');
      const silenced = alerts.filter((a) => a.status.silencedBy.length > 0);
      const inhibited = alerts.filter((a) => a.status.inhibitedBy.length > 0);
      if (active.some((a) => a.labels.severity === 'critical')) statuses.push('fail');
      else if (active.length > 0) statuses.push('warn');
      sections.push({
        title: `Alertmanager now: ${plural(active.length, 'active alert')}`,
        lines: [`${alerts.length} held: ${active.length} active, ${silenced.length} silenced, ${inhibited.length} inhibited`],
        ...(alerts.length > 0
          ? { header: ['alert', 'severity', 'state', 'since'], rows: alerts.slice(0, 30).map((a) => [a.labels.alertname ?? '?', a.labels.severity ?? '-', a.status.state, a.startsAt.slice(0, 16).replace('T', ' ')]) }
          : {}),
      });
    } catch (err) {
      statuses.push('warn');
      sections.push({ title: 'Alertmanager now', lines: [`⚠️ ${errorMessage(err)}`] });
    }
  }
  return { sections, status: statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'ok', groups, current };
}
