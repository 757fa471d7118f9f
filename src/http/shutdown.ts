// Graceful shutdown as an ordered list of steps. Kubernetes gives a pod
// terminationGracePeriodSeconds (30 s by default) between SIGTERM and SIGKILL: every step gets
// a deadline so one stuck step can't eat the time the later ones (releasing the Lease,
// closing the ops server) need, and a failed step doesn't stop the rest.
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';

export interface ShutdownStep {
  name: string;
  run: () => void | Promise<void>;
  /** Default: the sequence's stepTimeoutMs. */
  timeoutMs?: number;
}

export interface StepResult {
  name: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export interface ShutdownOptions {
  log?: Logger;
  /** Default 10 s. */
  stepTimeoutMs?: number;
}

/** Runs the steps one after another; resolves (never rejects) with what each did. */
export async function shutdownInOrder(steps: readonly ShutdownStep[], opts: ShutdownOptions = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    const started = Date.now();
    const limit = step.timeoutMs ?? opts.stepTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish within ${limit} ms`)), limit);
    });
    try {
      await Promise.race([Promise.resolve().then(step.run), late]);
      results.push({ name: step.name, ok: true, ms: Date.now() - started });
      opts.log?.info({ step: step.name, ms: Date.now() - started }, `shutdown: ${step.name} done`);
    } catch (err) {
      const detail = errorMessage(err);
      results.push({ name: step.name, ok: false, ms: Date.now() - started, detail });
      opts.log?.warn({ step: step.name, err }, `shutdown: ${step.name} failed: ${detail}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return results;
}

/** A step that only waits: after setDraining(), endpoints need a moment to drop this pod. */
export const pause = (ms: number) => () => new Promise<void>((resolve) => setTimeout(resolve, ms));
