// One item of the runbook's pre-deployment checklist. Each check is its own module in
// checks/, listed in checks/index.ts; run.ts runs them concurrently with a deadline each.
import type { Config } from '../config/schema.js';
import type { KubeClient } from '../kube/client.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export interface CheckResult { status: CheckStatus; detail: string; fix?: string }
export interface CheckContext { kube: KubeClient; config: Config; signal: AbortSignal; now: Date }
export interface PreflightCheck {
  id: string;               // e.g. 'kubernetes-version'
  title: string;            // e.g. 'Kubernetes ≥ 1.28'
  phases: readonly number[]; // deploy phases 1–5 that need it
  run(ctx: CheckContext): Promise<CheckResult | CheckResult[]>;
}
