// The Alertmanager webhook (version 4) as Alertmanager sends it. Per-alert status and
// fingerprint are optional because some senders (and older Alertmanagers) leave them out.
import { z } from 'zod';
import { formatIssues } from '../config/load.js';

const labels = z.record(z.string(), z.string());

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']).optional(),
  labels,
  annotations: labels.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const webhookSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels,
  externalURL: z.string(),
  alerts: z.array(alertSchema).min(1),
});

export type AlertmanagerWebhook = z.output<typeof webhookSchema>;
export type Alert = z.output<typeof alertSchema>;

export type ParsedWebhook = { ok: true; payload: AlertmanagerWebhook } | { ok: false; problems: string[] };

export function parseWebhook(body: string): ParsedWebhook {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problems: ['body is not JSON'] };
  }
  const result = webhookSchema.safeParse(json);
  return result.success ? { ok: true, payload: result.data } : { ok: false, problems: formatIssues(result.error.issues) };
}

/** An alert's own status; senders that omit it mean the group's. */
export const alertStatus = (alert: Alert, group: AlertmanagerWebhook): 'firing' | 'resolved' => alert.status ?? group.status;

/** An alert's identity: its fingerprint, or its sorted labels. */
export const alertIdentity = (alert: Alert): string =>
  alert.fingerprint ?? Object.entries(alert.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
