// The alert path, assembled: POST /alertmanager → incident threads → diagnosis and remedy,
// and the thread's silence buttons when Alertmanager's API is configured.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Store } from '../core/store.js';
import { alertmanagerFrom } from '../prometheus/alertmanager-api.js';
import type { AlertmanagerWebhook } from '../prometheus/alertmanager.js';
import type { SlackBot } from '../slack/app.js';
import { AlertThreads, alertGroupId, type AlertOutcome } from './alert-threads.js';
import { alertFollowUp } from './follow-up.js';
import { AlertSilences } from './silences.js';
import { alertmanagerWebhook } from './webhook.js';

/**
 * The webhook handler, the sweep that posts roots still pending (call it every minute or so),
 * the prune of old groups (every few minutes), and the check that expires "until resolved"
 * silences of resolved groups (every minute), or the reason alerts are off.
 */
export function alertRoute(bot: SlackBot, config: Config, store: Store, token: string | undefined, log: Logger) {
  if (!config.alerts.channel) return { reason: 'alerts.channel is not set' } as const;
  if (!token) return { reason: 'ALERTMANAGER_TOKEN is not set' } as const;
  const threads = new AlertThreads(store, bot.poster, config.alerts.channel, () => Date.now(), { rootsPerMinute: config.alerts.rootsPerMinute });
  // Incidents declared from an alert's thread hear of its changes.
  threads.onChange = async (change) => void (await bot.engine.incidentLog?.alertChanged(change));
  const alertmanager = alertmanagerFrom(config);
  const silences = alertmanager ? new AlertSilences({ store, alertmanager, poster: bot.poster, offer: (words, where) => bot.engine.offer(words, where) }) : undefined;
  if (silences) bot.engine.useAlertSilences(silences);
  const followUp = alertFollowUp({ engine: bot.engine, poster: bot.poster, publish: bot.publish, threads, config, signal: bot.signal });
  const onAlert = async (payload: AlertmanagerWebhook, outcome: AlertOutcome) => {
    const thread = outcome === 'opened' && silences ? await threads.threadOf(payload.groupKey) : undefined;
    if (thread) await silences?.offerButtons(alertGroupId(payload.groupKey), { channel: thread.channel, threadTs: thread.ts }).catch((err: unknown) => log.warn({ err }, 'could not offer the silence buttons'));
    await followUp(payload, outcome);
  };
  return {
    handler: alertmanagerWebhook({ token, threads, log, onAlert }),
    sweep: () => threads.sweep(),
    prune: () => threads.prune(),
    expireResolvedSilences: async () => (silences ? silences.sweep(bot.signal) : 0),
  } as const;
}
