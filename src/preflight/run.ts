// Runs checklist items concurrently (bounded), each with its own deadline. A check that throws
// or times out is ❌ with the reason, so one unreachable system never hides the others.
import { mapLimit } from '../core/concurrency.js';
import { deadlineSignal } from '../core/deadline.js';
import { errorMessage } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { STATUS_EMOJI, worstStatus, type Report, type ReportStatus } from '../core/report.js';
import type { CheckContext, CheckResult, CheckStatus, PreflightCheck } from './check.js';

export interface CheckOutcome {
  check: PreflightCheck;
  results: CheckResult[];
  ms: number;
}

/** What the report needs of an outcome (verify's smoke steps are outcomes too). */
export type TitledResults = { check: Pick<PreflightCheck, 'title'>; results: readonly CheckResult[] };

const CONCURRENCY = 4;
export const PHASES = [1, 2, 3, 4, 5] as const;

const REPORT_STATUS: Record<CheckStatus, ReportStatus> = { pass: 'ok', warn: 'warn', fail: 'fail' };

/** The checks deploy phase `phase` needs, or all of them. */
export function checksFor(checks: readonly PreflightCheck[], phase: number | undefined): PreflightCheck[] {
  return phase === undefined ? [...checks] : checks.filter((c) => c.phases.includes(phase));
}

/** `onDone(n, total)` after each check finishes, for progress. */
export async function runChecks(checks: readonly PreflightCheck[], ctx: CheckContext, timeoutMs: number, onDone?: (done: number, total: number) => Promise<void>): Promise<CheckOutcome[]> {
  // One listener on the caller's signal (the bot's shutdown signal, shared by every command), not one per check.
  const scope = deadlineSignal(2 ** 31 - 1, ctx.signal);
  let done = 0;
  try {
    return await mapLimit(checks, CONCURRENCY, async (check) => {
      const started = performance.now();
      const results = await runOne(check, { ...ctx, signal: scope.signal }, timeoutMs);
      await onDone?.(++done, checks.length).catch(() => undefined);
      return { check, results, ms: Math.round(performance.now() - started) };
    });
  } finally {
    scope.done();
  }
}

async function runOne(check: PreflightCheck, ctx: CheckContext, timeoutMs: number): Promise<CheckResult[]> {
  const deadline = deadlineSignal(timeoutMs, ctx.signal);
  // Listening before the check does, so the race reports the deadline, not the check's reaction to it.
  const stopped = new Promise<never>((_, reject) =>
    deadline.signal.addEventListener('abort', () => reject(new Error(deadline.timedOut() ? `no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}` : 'stopped')), { once: true }),
  );
  try {
    if (deadline.signal.aborted) throw new Error('stopped before it ran');
    const out = await Promise.race([check.run({ ...ctx, signal: deadline.signal }), stopped]);
    return Array.isArray(out) ? out : [out];
  } catch (err) {
    return [{ status: 'fail', detail: `could not check: ${errorMessage(err)}` }];
  } finally {
    deadline.done();
  }
}

export function overall(outcomes: readonly TitledResults[]): ReportStatus {
  const statuses = outcomes.flatMap((o) => o.results.map((r) => REPORT_STATUS[r.status]));
  return statuses.length ? worstStatus(statuses) : 'ok';
}

/** One line per result, and how to fix it under anything that is not ✅; every text redacted. */
export function outcomeLines(outcomes: readonly TitledResults[]): string[] {
  const lines: string[] = [];
  for (const { check, results } of outcomes) {
    for (const r of results) {
      // ' — ', not ': ': a title like 'Secrets: …' would read as a key: value pair to the redactor.
      lines.push(redactText(`${STATUS_EMOJI[REPORT_STATUS[r.status]]} ${check.title} — ${r.detail}`));
      if (r.status !== 'pass' && r.fix) lines.push(redactText(`      ↳ ${r.fix}`));
    }
  }
  return lines;
}

export function countLine(outcomes: readonly TitledResults[]): string {
  const n: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const o of outcomes) for (const r of o.results) n[r.status]++;
  return `${n.pass} passed, ${n.warn} warning${n.warn === 1 ? '' : 's'}, ${n.fail} failed`;
}

/** The checklist as a Report. */
export function checklistReport(title: string, outcomes: readonly TitledResults[]): Report {
  return { title, status: overall(outcomes), summary: countLine(outcomes), sections: [{ lines: outcomeLines(outcomes) }] };
}
