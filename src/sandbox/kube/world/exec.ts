// What runs "inside" the world's pods. nvidia-smi exists in containers that hold GPUs (the
// NVIDIA container toolkit mounts it there) and prints the capture of the node's GPU model;
// rules let a test pick the capture per pod or node, or make it slow, hang or fail.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import type { ClusterState, ExecHandler, ExecRequest } from '../contract.js';
import type { CaptureName } from './nodes.js';
import { captureForNode } from './nodes.js';
import type { NvidiaSmiError } from './nvidia-smi.js';
import { nvidiaSmi, nvidiaSmiError } from './nvidia-smi.js';
import type { Node, Pod } from './objects.js';
import { podGpus } from './objects.js';

export interface GpuExecRule {
  /** The pods it applies to: exact name or pattern (both optional: no pod and no node means every pod). */
  pod?: string | RegExp;
  /** ...or the pods on these nodes. */
  node?: string | RegExp;
  capture?: CaptureName;
  /** Never answers; resolves only when the client goes away. */
  hang?: boolean;
  delayMs?: number;
  /** Prints that error's real text with nvidia-smi's exit code. */
  error?: NvidiaSmiError;
}

export interface VlindersExecOptions {
  /** Where pods and their nodes are looked up: the emulator itself. */
  state: ClusterState;
  /** Every matching rule applies, later ones overriding earlier ones field by field. */
  rules?: GpuExecRule[];
  /** The capture when neither a rule nor the node's GPU labels decide (default 'h100'). */
  defaultCapture?: CaptureName;
  /** Latency of every nvidia-smi call (the fan-out benchmark uses 200 ms). */
  delayMs?: number;
}

const matches = (want: string | RegExp | undefined, value: string | undefined): boolean =>
  want === undefined || (value !== undefined && (typeof want === 'string' ? want === value : want.test(value)));

const write = (stream: Writable, text: string): Promise<void> =>
  text ? new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve()))) : Promise.resolve();

/** Resolves when the request is aborted (the client went away). */
const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

const KILLED = 137; // what a process killed with the session reports; nobody is left to read it

export function vlindersExec(opts: VlindersExecOptions): ExecHandler {
  const { state } = opts;
  return (req: ExecRequest) => {
    const [cmd, ...args] = req.command;
    if (cmd !== 'nvidia-smi' && cmd !== '/usr/bin/nvidia-smi') return undefined;
    const pod = state.get('v1', 'Pod', req.namespace, req.pod) as Pod | undefined;
    const container = pod?.spec.containers.find((c) => c.name === req.container);
    if (!pod || !container || podGpus({ spec: { containers: [container] } }) === 0) return undefined;
    const nodeName = pod.spec.nodeName;
    const rule: GpuExecRule = Object.assign({}, ...(opts.rules ?? []).filter((r) => matches(r.pod, pod.metadata.name) && matches(r.node, nodeName)));
    const node = nodeName ? (state.get('v1', 'Node', undefined, nodeName) as Node | undefined) : undefined;
    const capture = rule.capture ?? captureForNode(node?.metadata.labels) ?? opts.defaultCapture ?? 'h100';
    return (async () => {
      if (rule.hang) {
        await aborted(req.signal);
        return KILLED;
      }
      const delay = rule.delayMs ?? opts.delayMs ?? 0;
      if (delay > 0) {
        try {
          await sleep(delay, undefined, { signal: req.signal });
        } catch {
          return KILLED;
        }
      }
      const result = rule.error ? nvidiaSmiError(rule.error) : nvidiaSmi(args, capture);
      await write(req.stdout, result.stdout);
      await write(req.stderr, result.stderr);
      return result.code;
    })();
  };
}

/** The first handler that knows the command runs it (e.g. nvidia-smi here, pg_dump/psql elsewhere). */
export const chainExec =
  (...handlers: ExecHandler[]): ExecHandler =>
  (req) => {
    for (const h of handlers) {
      const run = h(req);
      if (run !== undefined) return run;
    }
    return undefined;
  };
