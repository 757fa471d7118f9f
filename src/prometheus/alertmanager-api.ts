// Alertmanager API v2: GET /api/v2/alerts, the alerts it holds now (gettableAlerts). It keeps
// no history: an alert is gone once resolved and past its resolve_timeout.
import { z } from 'zod';
import { UnreachableError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { getJson, shownUrl } from './http.js';

const labelSet = z.record(z.string(), z.string());

/** The documented gettableAlert (api/v2/openapi.yaml); mutedBy is newer, so optional. */
export const gettableAlert = z.object({
  labels: labelSet,
  annotations: labelSet,
  receivers: z.array(z.object({ name: z.string() })),
  fingerprint: z.string(),
  startsAt: z.string(),
  updatedAt: z.string(),
  endsAt: z.string(),
  generatorURL: z.string().optional(),
  status: z.object({
    state: z.enum(['unprocessed', 'active', 'suppressed']),
    silencedBy: z.array(z.string()),
    inhibitedBy: z.array(z.string()),
    mutedBy: z.array(z.string()).optional(),
  }),
});

export type GettableAlert = z.output<typeof gettableAlert>;

export class AlertmanagerClient {
  private base: URL;

  constructor(baseUrl: string, private timeoutMs = 15_000) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  }

  /** Every alert Alertmanager holds now: active, silenced and inhibited. */
  async alerts(opts: { signal?: AbortSignal } = {}): Promise<GettableAlert[]> {
    const url = new URL('api/v2/alerts', this.base);
    for (const k of ['active', 'silenced', 'inhibited', 'unprocessed']) url.searchParams.set(k, 'true');
    const { status, body } = await getJson(url, { system: 'Alertmanager', timeoutMs: this.timeoutMs, signal: opts.signal });
    if (status !== 200) throw new UnreachableError(`Alertmanager (${shownUrl(url)}) answered HTTP ${status}: ${typeof body === 'string' ? body : JSON.stringify(body).slice(0, 200)}`);
    const parsed = z.array(gettableAlert).safeParse(body);
    if (!parsed.success) throw new UnreachableError(`Alertmanager (${shownUrl(url)}) answered with something that is not a list of alerts (API v2).`);
    return parsed.data;
  }
}

export function alertmanagerFrom(config: Config): AlertmanagerClient | undefined {
  return config.prometheus.alertmanagerUrl ? new AlertmanagerClient(config.prometheus.alertmanagerUrl, config.prometheus.timeoutSeconds * 1000) : undefined;
}
