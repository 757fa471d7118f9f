// The chart an alert thread gets, as Robusta attaches one: the alert's expression over the
// last hour. The expression comes from the alert's generatorURL (Prometheus's graph link,
// `g0.expr`) and is outside text: only that one parameter is read, and it only ever goes to
// the configured Prometheus as a range query. The URL's host is never contacted.
import { labelsName, rangeChart, type RangeChartSpec } from '../charts/index.js';
import type { Report } from '../core/report.js';
import type { AlertmanagerWebhook } from '../prometheus/alertmanager.js';
import type { PrometheusClient } from '../prometheus/client.js';
import { truncate } from '../slack/mrkdwn.js';

/** Longer than any alerting rule people write; a longer one is not a rule's expression. */
export const MAX_EXPR = 2000;
const HOUR_S = 3600;
const STEP_S = 60;

/** The `g0.expr` of a Prometheus graph link, or undefined when there is none (or it is absurd). */
export function generatorExpr(generatorURL: string | undefined): string | undefined {
  if (!generatorURL) return undefined;
  let url: URL;
  try {
    url = new URL(generatorURL);
  } catch {
    return undefined;
  }
  const expr = url.searchParams.get('g0.expr')?.trim();
  if (!expr || expr.length > MAX_EXPR || /[\0-\x08\x0b\x0c\x0e-\x1f]/.test(expr)) return undefined;
  return expr;
}

/** The expression of the group's first alert that links one. */
export function alertExpr(payload: AlertmanagerWebhook): string | undefined {
  for (const alert of payload.alerts) {
    const expr = generatorExpr(alert.generatorURL);
    if (expr) return expr;
  }
  return undefined;
}

export function alertChartSpec(payload: AlertmanagerWebhook, expr: string, nowMs: number): RangeChartSpec {
  const to = Math.floor(nowMs / 1000 / STEP_S) * STEP_S;
  const name = payload.commonLabels.alertname ?? payload.groupLabels.alertname ?? 'alert';
  return { id: 'alert-expression-1h', title: truncate(`${name}: its expression, last hour`, 120), unit: 'number', promql: expr, from: to - HOUR_S, to, stepSeconds: STEP_S, nameOf: (m) => labelsName(m, name), condense: 'largest' };
}

/** The thread's chart report, or undefined when the alerts link no expression. */
export async function alertChartReport(payload: AlertmanagerWebhook, prom: PrometheusClient | undefined, nowMs: number, signal?: AbortSignal): Promise<Report | undefined> {
  const expr = alertExpr(payload);
  if (!expr) return undefined;
  const spec = alertChartSpec(payload, expr, nowMs);
  const outcome = await rangeChart(prom, spec, signal);
  const exprLine = `\`${truncate(expr.replace(/`/g, "'").replace(/\s+/g, ' '), 300)}\``;
  if ('line' in outcome) return { title: 'Alert expression, last hour', status: 'info', sections: [{ lines: [outcome.line, exprLine] }] };
  return { title: 'Alert expression, last hour', status: 'info', sections: [{ lines: [exprLine] }], charts: [outcome.chart] };
}
