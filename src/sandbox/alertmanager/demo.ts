// The sandbox's Alertmanager: the real one (Debian's prometheus-alertmanager) when installed,
// delivering to the console's alert route, with one demo alert group firing from the start so
// #incidents has a live thread with its silence buttons, and the README's `silence …` examples
// name that group.
import { NAMESPACES } from '../kube/world/seed.js';
import { startAlertmanager, type RunningAlertmanager } from './server.js';

/** What the sandbox says for `silence …` when Alertmanager is not installed. */
export const ALERTMANAGER_MISSING = 'install prometheus-alertmanager to try silences here (Debian: apt-get install prometheus-alertmanager)';

const GROUP_BY = ['alertname', 'namespace'];

/** The demo alert, as Prometheus would fire it: vLLM's queue backing up in the inference namespace. */
export const DEMO_ALERT_LABELS: Record<string, string> = { alertname: 'VllmQueueBacklog', namespace: NAMESPACES.inference, severity: 'warning' };

/**
 * Alertmanager's groupKey of a group on the root route: the route's key ("{}" for the root)
 * and the group's labels as Prometheus prints a label set (sorted, `name="value"`, ", "-joined).
 */
export function rootGroupKey(groupBy: readonly string[], labels: Record<string, string>): string {
  const shown = groupBy
    .filter((name) => labels[name] !== undefined)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{}:{${shown.join(', ')}}`;
}

/** The demo group's key, as Alertmanager sends it to the bot (the README's examples use its alertGroupId). */
export const DEMO_GROUP_KEY = rootGroupKey(GROUP_BY, DEMO_ALERT_LABELS);

/** How long the demo alert fires: Prometheus would resend it; the sandbox posts it once, so for a day. */
const DEMO_ALERT_MS = 24 * 3_600_000;

/**
 * Starts Alertmanager on `port` (the one the bot's config already names) with the bot's webhook
 * as its receiver, and fires the demo alert into it (POST /api/v2/alerts).
 */
export async function startSandboxAlertmanager(port: number, webhook: { url: string; token: string }): Promise<RunningAlertmanager> {
  const am = await startAlertmanager({
    webhookUrl: webhook.url,
    token: webhook.token,
    port,
    groupBy: GROUP_BY,
    // Alertmanager's defaults but a short first wait: the thread appears as the console starts,
    // and no repeat notification rewrites it every few seconds.
    groupWait: '200ms',
    groupInterval: '5m',
    repeatInterval: '4h',
  });
  try {
    const alert = {
      labels: DEMO_ALERT_LABELS,
      annotations: { summary: 'vLLM requests are queueing in vlinders-inference (sandbox demo alert)' },
      generatorURL: 'http://prometheus.vlinders-monitoring:9090/graph',
      endsAt: new Date(Date.now() + DEMO_ALERT_MS).toISOString(),
    };
    const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([alert]) });
    if (!res.ok) throw new Error(`the sandbox's Alertmanager refused the demo alert: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return am;
  } catch (err) {
    await am.stop();
    throw err;
  }
}
