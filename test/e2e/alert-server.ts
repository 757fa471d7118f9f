// The alert path for end-to-end tests: the bot's POST /alertmanager route on a local server,
// and a webhook body derived from a captured Alertmanager payload.
import { createServer, type Server } from 'node:http';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/log.js';
import { MemoryStore, type Store } from '../../src/core/store.js';
import { alertRoute } from '../../src/incidents/index.js';
import { readCaptured } from '../fixtures/captured.js';
import type { BotHarness } from './harness.js';

export const ALERT_TOKEN = 'an-alertmanager-token-for-tests';

/** Serves the bot's alert route; returns its URL, its sweep of pending roots, its check of silences, and how to close it. */
export async function serveAlerts(bot: BotHarness, config: Config, store: Store = new MemoryStore()): Promise<{ url: string; sweep(): Promise<number>; expireResolvedSilences(): Promise<number>; close(): Promise<void> }> {
  const route = alertRoute(bot.bot, config, store, ALERT_TOKEN, createLogger('silent'));
  if (!('handler' in route) || !route.handler) throw new Error(route.reason);
  const { handler, sweep, expireResolvedSilences } = route;
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/alertmanager`,
    sweep,
    expireResolvedSilences,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The captured prometheus-msteams payload, re-labelled as one alert group of ours. */
export function alertBody(labels: Record<string, string> & { alertname: string }, groupKey: string): string {
  const p = JSON.parse(readCaptured('alertmanager/alertmanager_webhook_v4_firing_prometheus-msteams.json')) as Record<string, unknown> & { alerts: Array<{ labels: Record<string, string> }> };
  return JSON.stringify({ ...p, groupKey, groupLabels: { alertname: labels.alertname }, commonLabels: labels, alerts: p.alerts.map((a) => ({ ...a, labels })) });
}

export const postAlert = (url: string, body: string) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ALERT_TOKEN}` }, body });
