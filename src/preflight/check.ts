// src/preflight/check.ts
import type { Config } from '../config/schema.js';
import type { KubeClient } from '../kube/client.js';
export type CheckStatus = 'pass' | 'warn' | 'fail';
export interface CheckResult { status: CheckStatus; detail: string; fix?: string }
export interface CheckContext { kube: KubeClient; config: Config; signal: AbortSignal; now: Date }
export interface PreflightCheck {
  id: string; title: string; phases: readonly number[];
  run(ctx: CheckContext): Promise<CheckResult | CheckResult[]>;
}
