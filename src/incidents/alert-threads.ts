// One incident thread per Alertmanager groupKey. The first notification opens it, a change
// replies in the thread and updates the root message in place, a repeat (Alertmanager
// re-sends every repeat_interval, and retries on errors) posts nothing.
import { createHash } from 'node:crypto';
import type { Report } from '../core/report.js';
import type { Store } from '../core/store.js';
import { alertIdentity, alertStatus, type AlertmanagerWebhook } from '../prometheus/alertmanager.js';

/** What the threads need of Slack (SlackPoster has it). */
export interface ThreadPoster {
  report(where: { channel: string; threadTs?: string }, report: Report): Promise<string | undefined>;
  updateReport(channel: string, ts: string, report: Report): Promise<void>;
}

export interface ThreadState {
  channel: string;
  ts?: string;
  status: 'firing' | 'resolved';
  /** The group's alertname and severity, for the weekly alert history. */
  name?: string;
  severity?: string;
  /** When a notification last said the whole group resolved. */
  resolvedAt?: number;
  /** Status and alert set of the last notification acted on. */
  digest: string;
  openedAt: number;
  notifications: number;
}

/** `repeated`: the same alerts again (repeat_interval, a retry): the root's count moves, nothing is posted. */
export type AlertOutcome = 'opened' | 'updated' | 'resolved' | 'repeated' | 'duplicate';

const KIND = 'incident-thread';
const keyOf = (groupKey: string) => createHash('sha256').update(groupKey).digest('hex').slice(0, 40);

export function digestOf(payload: AlertmanagerWebhook): string {
  const alerts = payload.alerts.map((a) => `${alertIdentity(a)}:${alertStatus(a, payload)}`).sort();
  return createHash('sha256').update(JSON.stringify([payload.status, alerts])).digest('hex');
}

export function alertReport(payload: AlertmanagerWebhook, opts: { notifications?: number } = {}): Report {
  const name = payload.commonLabels.alertname ?? payload.groupLabels.alertname ?? 'alert';
  const firing = payload.alerts.filter((a) => alertStatus(a, payload) === 'firing');
  const resolved = payload.status === 'resolved';
  const severity = payload.commonLabels.severity;
  const summary = payload.commonAnnotations.summary ?? payload.commonAnnotations.description ?? payload.alerts[0]?.annotations.summary;
  return {
    title: `${resolved ? 'RESOLVED' : 'FIRING'}: ${name}`,
    status: resolved ? 'ok' : severity === 'critical' || severity === 'page' ? 'fail' : 'warn',
    summary: summary ?? (resolved ? 'All alerts of this group resolved.' : `${firing.length} alert(s) firing.`),
    sections: [
      {
        fields: [
          { label: 'Status', value: resolved ? 'resolved' : `firing (${firing.length}/${payload.alerts.length})` },
          ...(severity ? [{ label: 'Severity', value: severity }] : []),
          ...Object.entries(payload.groupLabels).map(([k, v]) => ({ label: k, value: v })),
          ...(opts.notifications && opts.notifications > 1 ? [{ label: 'Notifications', value: String(opts.notifications) }] : []),
        ],
      },
      {
        title: 'Alerts',
        header: ['status', 'labels', 'since'],
        rows: payload.alerts.map((a) => [
          alertStatus(a, payload),
          Object.entries(a.labels)
            .filter(([k]) => !(k in payload.commonLabels))
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || '-',
          a.startsAt ?? '',
        ]),
      },
    ],
  };
}

/** Every alert group the bot has opened a thread for, as recorded in the store. */
export async function recordedAlertThreads(store: Store): Promise<ThreadState[]> {
  return (await store.list<ThreadState>(KIND)).map((e) => e.entry.value);
}

export class AlertThreads {
  constructor(
    private store: Store,
    private poster: ThreadPoster,
    private channel: string,
    private now: () => number = Date.now,
  ) {}

  /** Where a group's thread is, if it has one (for diagnoses and remedies posted into it). */
  async threadOf(groupKey: string): Promise<{ channel: string; ts: string } | undefined> {
    const state = (await this.store.get<ThreadState>(KIND, keyOf(groupKey)))?.value;
    return state?.ts ? { channel: state.channel, ts: state.ts } : undefined;
  }

  async handle(payload: AlertmanagerWebhook): Promise<AlertOutcome> {
    const key = keyOf(payload.groupKey);
    const digest = digestOf(payload);
    const fresh: ThreadState = {
      channel: this.channel,
      status: payload.status,
      name: payload.commonLabels.alertname ?? payload.groupLabels.alertname,
      severity: payload.commonLabels.severity,
      digest,
      openedAt: this.now(),
      notifications: 1,
      ...(payload.status === 'resolved' ? { resolvedAt: this.now() } : {}),
    };
    // Claim the group first: of two deliveries racing, only one opens the thread.
    if (await this.store.create(KIND, key, fresh)) {
      const ts = await this.poster.report({ channel: this.channel }, alertReport(payload));
      await this.save(key, (s) => ({ ...s, ts }));
      return 'opened';
    }
    const entry = await this.store.get<ThreadState>(KIND, key);
    if (!entry) return this.handle(payload);
    const state = entry.value;
    const next: ThreadState = { ...state, status: payload.status, digest, notifications: state.notifications + 1, resolvedAt: payload.status === 'resolved' ? (state.resolvedAt ?? this.now()) : undefined };
    // Compare-and-swap, so a retried delivery racing this one can't post the same change twice.
    if (!(await this.store.update(KIND, key, next, entry.version))) return 'duplicate';
    const report = alertReport(payload, { notifications: next.notifications });
    if (state.digest === digest) {
      if (state.ts) await this.poster.updateReport(state.channel, state.ts, report);
      return 'repeated';
    }
    if (state.ts) {
      await this.poster.report({ channel: state.channel, threadTs: state.ts }, { ...report, sections: report.sections?.slice(1) });
      await this.poster.updateReport(state.channel, state.ts, report);
    }
    return payload.status === 'resolved' ? 'resolved' : 'updated';
  }

  private async save(key: string, change: (s: ThreadState) => ThreadState): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const entry = await this.store.get<ThreadState>(KIND, key);
      if (!entry) return;
      if (await this.store.update(KIND, key, change(entry.value), entry.version)) return;
    }
  }
}
