// What every scheduled report is built from: the cluster, the config, and the optional
// outside sources; how a report's root and thread are put together.
import type { LineChart } from '../charts/spec.js';
import type { Config } from '../config/schema.js';
import { worstStatus, type Report, type ReportSection, type ReportStatus } from '../core/report.js';
import type { KubeClient } from '../kube/client.js';
import type { BotRecords, DigestSources } from './sources.js';

export interface ReportInputs {
  kube: KubeClient;
  config: Config;
  signal: AbortSignal;
  clusterName?: string;
  now?: () => number;
  sources?: DigestSources;
  /** The bot's own records (alert threads, incidents); absent where it keeps none (the terminal). */
  records?: BotRecords;
}

/** A compact root (headline, a few fields) with the details in its thread. */
export function rootAndThread(kind: string, inputs: ReportInputs, parts: { statuses: ReportStatus[]; headline: string; fields: Array<{ label: string; value: string }>; details: ReportSection[]; charts?: LineChart[] }): Report {
  const day = new Date((inputs.now ?? Date.now)()).toISOString().slice(0, 10);
  const status = worstStatus(['ok', ...parts.statuses.filter((s) => s !== 'info')]);
  return {
    title: `${kind} report${inputs.clusterName ? ` · ${inputs.clusterName}` : ''} · ${day}`,
    status,
    summary: parts.headline,
    sections: [{ fields: parts.fields }, { lines: ['Details in the thread.'] }],
    thread: [{ title: `${kind} report details · ${day}`, status, sections: parts.details, ...(parts.charts?.length ? { charts: parts.charts } : {}) }],
  };
}
