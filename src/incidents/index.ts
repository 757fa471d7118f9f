// The alert path, assembled: POST /alertmanager → incident threads → diagnosis and remedy.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Store } from '../core/store.js';
import type { SlackBot } from '../slack/app.js';
import { AlertThreads } from './alert-threads.js';
import { alertFollowUp } from './follow-up.js';
import { alertmanagerWebhook } from './webhook.js';

/**
 * The webhook handler, the sweep that posts roots still pending (call it every minute or so)
 * and the prune of old groups (every few minutes), or the reason alerts are off.
 */
export function alertRoute(bot: SlackBot, config: Config, store: Store, token: string | undefined, log: Logger) {
  if (!config.alerts.channel) return { reason: 'alerts.channel is not set' } as const;
  if (!token) return { reason: 'ALERTMANAGER_TOKEN is not set' } as const;
  const threads = new AlertThreads(store, bot.poster, config.alerts.channel, Date.now, { rootsPerMinute: config.alerts.rootsPerMinute });
  // Incidents declared from an alert's thread hear of its changes.
  threads.onChange = async (change) => void (await bot.engine.incidentLog?.alertChanged(change));
  const onAlert = alertFollowUp({ engine: bot.engine, poster: bot.poster, publish: bot.publish, threads, config, signal: bot.signal });
  return { handler: alertmanagerWebhook({ token, threads, log, onAlert }), sweep: () => threads.sweep(), prune: () => threads.prune() } as const;
}
