// Alertmanager API v2: GET /api/v2/alerts, the alerts it holds now (gettableAlerts), and the
// silences (POST /api/v2/silences, GET and DELETE /api/v2/silence/{id}). It keeps no alert
// history: an alert leaves the list once resolved.
import { z } from 'zod';
import { UnreachableError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { getJson, requestJson, shownUrl } from './http.js';

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

/** An equality matcher (the only kind the bot writes): label `name` is exactly `value`. */
export interface EqualMatcher {
  name: string;
  value: string;
}

/** The documented gettableSilence, what GET /api/v2/silence/{id} answers. */
const gettableSilence = z.object({
  id: z.string(),
  status: z.object({ state: z.enum(['expired', 'active', 'pending']) }),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
});

export type GettableSilence = z.output<typeof gettableSilence>;

export interface NewSilence {
  matchers: EqualMatcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
}

/**
 * A matcher as the `filter` parameter takes it: name="value", the value in Alertmanager's
 * quoting (backslash escapes for backslash, quote and newline), since label values are outside
 * text that may hold any of them.
 */
export function filterMatcher(m: EqualMatcher): string {
  return `${m.name}="${m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const SILENCE_ID = /^[A-Za-z0-9-]{1,64}$/;

export class AlertmanagerClient {
  private base: URL;

  constructor(baseUrl: string, private timeoutMs = 15_000) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  }

  /** Every alert Alertmanager holds now: active, silenced and inhibited; only those all `filter` matchers match when given. */
  async alerts(opts: { signal?: AbortSignal; filter?: readonly EqualMatcher[] } = {}): Promise<GettableAlert[]> {
    const url = new URL('api/v2/alerts', this.base);
    for (const k of ['active', 'silenced', 'inhibited', 'unprocessed']) url.searchParams.set(k, 'true');
    for (const m of opts.filter ?? []) url.searchParams.append('filter', filterMatcher(m));
    const { status, body } = await getJson(url, { system: 'Alertmanager', timeoutMs: this.timeoutMs, signal: opts.signal });
    if (status !== 200) throw this.refused(url, status, body);
    const parsed = z.array(gettableAlert).safeParse(body);
    if (!parsed.success) throw new UnreachableError(`Alertmanager (${shownUrl(url)}) answered with something that is not a list of alerts (API v2).`);
    return parsed.data;
  }

  /** Creates a silence; returns its id. */
  async createSilence(silence: NewSilence, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const url = new URL('api/v2/silences', this.base);
    const json = {
      matchers: silence.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: false, isEqual: true })),
      startsAt: silence.startsAt.toISOString(),
      endsAt: silence.endsAt.toISOString(),
      createdBy: silence.createdBy,
      comment: silence.comment,
    };
    const { status, body } = await requestJson(url, { system: 'Alertmanager', timeoutMs: this.timeoutMs, signal: opts.signal, method: 'POST', json });
    if (status !== 200) throw this.refused(url, status, body);
    const parsed = z.object({ silenceID: z.string().regex(SILENCE_ID) }).safeParse(body);
    if (!parsed.success) throw new UnreachableError(`Alertmanager (${shownUrl(url)}) created a silence but answered without its id (API v2).`);
    return parsed.data.silenceID;
  }

  /** One silence, or undefined when Alertmanager has none by that id (404). */
  async silence(id: string, opts: { signal?: AbortSignal } = {}): Promise<GettableSilence | undefined> {
    const url = this.silenceUrl(id);
    const { status, body } = await getJson(url, { system: 'Alertmanager', timeoutMs: this.timeoutMs, signal: opts.signal });
    if (status === 404) return undefined;
    if (status !== 200) throw this.refused(url, status, body);
    const parsed = gettableSilence.safeParse(body);
    if (!parsed.success) throw new UnreachableError(`Alertmanager (${shownUrl(url)}) answered with something that is not a silence (API v2).`);
    return parsed.data;
  }

  /** Expires a silence now (Alertmanager keeps it, expired). False when it has none by that id. */
  async expireSilence(id: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const url = this.silenceUrl(id);
    const { status, body } = await requestJson(url, { system: 'Alertmanager', timeoutMs: this.timeoutMs, signal: opts.signal, method: 'DELETE' });
    if (status === 404) return false;
    if (status !== 200) throw this.refused(url, status, body);
    return true;
  }

  private silenceUrl(id: string): URL {
    if (!SILENCE_ID.test(id)) throw new UnreachableError(`"${id.slice(0, 70)}" is not an Alertmanager silence id.`);
    return new URL(`api/v2/silence/${id}`, this.base);
  }

  private refused(url: URL, status: number, body: unknown): UnreachableError {
    return new UnreachableError(`Alertmanager (${shownUrl(url)}) answered HTTP ${status}: ${(typeof body === 'string' ? body : JSON.stringify(body) ?? '').slice(0, 200)}`);
  }
}

export function alertmanagerFrom(config: Config): AlertmanagerClient | undefined {
  return config.prometheus.alertmanagerUrl ? new AlertmanagerClient(config.prometheus.alertmanagerUrl, config.prometheus.timeoutSeconds * 1000) : undefined;
}
