// What the bot adds to an incident thread: the matching diagnosis (a read command, run at
// once) and the runbook's remedy as a button (run by whoever clicks, through confirmation).
import type { Config } from '../config/schema.js';
import { tokenize } from '../core/args.js';
import type { CommandEngine } from '../core/engine.js';
import type { Report } from '../core/report.js';
import type { AlertmanagerWebhook } from '../prometheus/alertmanager.js';
import type { SlackPoster } from '../slack/poster.js';
import { suggestionMessage } from '../slack/cards.js';
import { prometheusFrom } from '../prometheus/client.js';
import { alertChartReport } from './alert-chart.js';
import { declareIncidentWords, type AlertOutcome, type AlertThreads } from './alert-threads.js';

/** The bot's identity in audit lines for what it runs on an alert. */
export const ALERT_CALLER = 'alertmanager';

/**
 * A template's words with {{label}} replaced by the alert's label values. Replacement is per
 * word, after splitting, so a label value is always one argument, whatever it contains.
 * Undefined when a label it needs is missing.
 */
export function fillTemplate(template: string, labels: Record<string, string>): string[] | undefined {
  let missing = false;
  const words = tokenize(template).map((word) =>
    word.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
      const value = labels[name];
      if (value === undefined) missing = true;
      return value ?? '';
    }),
  );
  return missing ? undefined : words;
}

export function alertFollowUp(deps: {
  engine: CommandEngine;
  poster: SlackPoster;
  /** Posts a report with its thread and its offered remedies as buttons (the bot's publish). */
  publish: (where: { channel: string; threadTs?: string }, report: Report, footer?: string) => Promise<unknown>;
  threads: AlertThreads;
  config: Config;
  signal: AbortSignal;
  now?: () => number;
}) {
  return async (payload: AlertmanagerWebhook, outcome?: AlertOutcome): Promise<void> => {
    const thread = await deps.threads.threadOf(payload.groupKey);
    const alertname = payload.commonLabels.alertname ?? payload.groupLabels.alertname;
    if (!thread) return;
    const where = { channel: thread.channel, threadTs: thread.ts };
    if (outcome === 'opened') {
      // A new thread gets its expression charted once,
      const chart = await alertChartReport(payload, prometheusFrom(deps.config), (deps.now ?? Date.now)(), deps.signal);
      if (chart) await deps.poster.report(where, chart);
      // and offers to declare an incident from it (an operator's click, through RBAC).
      const id = await deps.engine.offer(declareIncidentWords({ name: alertname, severity: payload.commonLabels.severity }), where);
      const message = suggestionMessage('Is this an incident? Declaring one opens its own channel, invites on-call, and links this thread.', [{ id, label: 'Declare incident' }]);
      await deps.poster.post(where, message.text, message.blocks);
    }
    if (!alertname) return;
    const labels = { ...payload.commonLabels, ...payload.alerts[0]?.labels };
    const diagnosis = deps.config.alerts.diagnoses[alertname];
    const words = diagnosis ? fillTemplate(diagnosis, labels) : undefined;
    // A diagnosis may offer the remedy it found (diagnose latency: scale-gpu to one more worker).
    const offered: string[] = [];
    if (words) {
      const io = { progress: async () => undefined, signal: deps.signal };
      const outcome = await deps.engine.invoke({ userId: ALERT_CALLER, channelId: thread.channel, threadTs: thread.ts, surface: 'slack' }, words, io, { system: true });
      if (outcome.kind === 'report') {
        await deps.publish(where, outcome.report, `Diagnosis for ${alertname}: \`${words.join(' ')}\``);
        offered.push(...(outcome.report.offers ?? []).map((o) => o.words.join(' ')));
      } else if (outcome.kind === 'error') await deps.poster.post(where, `Diagnosis \`${words.join(' ')}\` could not run: ${outcome.message}`);
    }
    const remedy = deps.config.alerts.remedies[alertname];
    const remedyWords = remedy ? fillTemplate(remedy, labels) : undefined;
    if (remedyWords && !offered.includes(remedyWords.join(' '))) {
      const id = await deps.engine.offer(remedyWords, where);
      const message = suggestionMessage(`The runbook's remedy for *${alertname}*. Pressing it shows the plan and asks for approval.`, [{ id, label: remedyWords.join(' ') }]);
      await deps.poster.post(where, message.text, message.blocks);
    }
  };
}
