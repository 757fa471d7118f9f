// The skeleton both world controllers share: watch the state, coalesce bursts of events into
// one reconcile pass on the next macrotask (our own writes trigger events too; a pass that
// changes nothing writes nothing, so this settles), and own every timer so stop() is clean.
import type { ClusterState, WatchEvent } from '../contract.js';

export interface Loop {
  /** Run a pass soon (once, however often it's asked for before it runs). */
  kick(): void;
  /** Run fn after ms unless a timer with this key is already pending. */
  later(key: string, ms: number, fn: () => void): void;
  stop(): void;
}

export interface LoopOptions {
  /** Sees every event (to keep caches current); returns whether it calls for a pass. */
  onEvent(e: WatchEvent): boolean;
  pass(): void;
  /** Wait before retrying a pass that threw (a conflict with a concurrent write, say). */
  retryMs?: number;
}

export function startLoop(state: ClusterState, opts: LoopOptions): Loop {
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const later = (key: string, ms: number, fn: () => void): void => {
    if (stopped || timers.has(key)) return;
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        if (!stopped) fn();
      }, ms),
    );
  };
  const run = (): void => {
    try {
      opts.pass();
    } catch (err) {
      if (!stopped) console.warn(`world controller: pass failed, retrying: ${(err as Error).message}`);
      later('retry', opts.retryMs ?? 50, run);
    }
  };
  const kick = (): void => later('pass', 0, run);
  const unwatch = state.watch((e) => {
    if (!stopped && opts.onEvent(e)) kick();
  });
  kick();
  return {
    kick,
    later,
    stop() {
      stopped = true;
      unwatch();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
