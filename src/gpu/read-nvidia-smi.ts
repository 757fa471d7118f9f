// One entry point per pod: whatever nvidia-smi printed (CSV, table, an error text, nothing),
// a reading or a typed error comes back. Nothing here throws on bad input.
import type { GpuProcess, GpuReading, NvidiaSmiReading } from './gpu-reading.js';
import { readComputeAppsCsv, readGpuQueryCsv, type ComputeApp } from './nvidia-smi-csv.js';
import { execFailure, excerptOf, NvidiaSmiError, recognizeFailure } from './nvidia-smi-errors.js';
import { readNvidiaSmiTable } from './nvidia-smi-table.js';

/** What an exec printed. `exitCode` as reported by the exec status; undefined when unknown. */
export interface ExecOutput {
  stdout: string;
  stderr?: string;
  exitCode?: number;
}

/** One exec as the caller saw it: it completed (whatever its exit code), or it did not. */
export type ExecOutcome = ({ ok: true } & ExecOutput) | { ok: false; error: string; timedOut?: boolean };

export type NvidiaSmiResult = { ok: true; reading: NvidiaSmiReading } | { ok: false; error: NvidiaSmiError };

const UNSUPPORTED_FORMATS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\s*<\?xml|<nvidia_smi_log>/, 'XML (nvidia-smi -q -x)'],
  [/=+NVSMI LOG=+/, 'the full query (nvidia-smi -q)'],
];

const withExitCode = (message: string, exitCode: number | undefined) =>
  exitCode !== undefined && exitCode !== 0 ? `${message} (exit code ${exitCode})` : message;

/**
 * The GPUs in the output of NVIDIA_SMI_GPU_QUERY or NVIDIA_SMI_TABLE (found by its looks).
 * `fields` names the columns of `--format=csv,noheader` output (default: GPU_QUERY_FIELDS).
 */
export function readNvidiaSmi(output: ExecOutput | string, fields?: readonly string[]): NvidiaSmiResult {
  const { stdout, stderr = '', exitCode } = typeof output === 'string' ? { stdout: output } : output;
  const unsupported = UNSUPPORTED_FORMATS.find(([pattern]) => pattern.test(stdout));
  if (unsupported) {
    const error = new NvidiaSmiError('unsupported-format', `This is ${unsupported[1]} output, which the gpu command does not read.`, 'Run NVIDIA_SMI_GPU_QUERY, or NVIDIA_SMI_TABLE.', excerptOf(stdout));
    return { ok: false, error };
  }
  // Data first: a warning about one GPU (e.g. "GPU is lost") must not hide the others.
  const reading = readNvidiaSmiTable(stdout) ?? csvReading(stdout, fields);
  if (reading) {
    if (exitCode) reading.warnings.push(`nvidia-smi exited with code ${exitCode}`);
    reading.warnings.push(...stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean));
    return { ok: true, reading };
  }
  const all = `${stdout}\n${stderr}`;
  const known = recognizeFailure(all);
  if (known) return { ok: false, error: known };
  if (!all.trim()) {
    return { ok: false, error: new NvidiaSmiError('empty', withExitCode('nvidia-smi printed nothing', exitCode), 'Run it by hand in the pod to see why.') };
  }
  const error = new NvidiaSmiError(
    'unparseable',
    withExitCode('nvidia-smi printed something that is neither its CSV nor its table', exitCode),
    'Read the excerpt; the default table (NVIDIA_SMI_TABLE) is the fallback for drivers whose CSV differs.',
    excerptOf(all),
  );
  return { ok: false, error };
}

function csvReading(stdout: string, fields: readonly string[] | undefined): NvidiaSmiReading | undefined {
  const csv = readGpuQueryCsv(stdout, fields);
  return csv && { format: 'csv', driverVersion: csv.driverVersion, gpus: csv.gpus, warnings: csv.warnings };
}

/** The processes in the output of NVIDIA_SMI_COMPUTE_APPS_QUERY, or why there are none to show. */
export function readComputeApps(outcome: ExecOutcome): { ok: true; apps: ComputeApp[] } | { ok: false; error: NvidiaSmiError } {
  if (!outcome.ok) return { ok: false, error: execFailure(outcome.error, outcome.timedOut ?? false) };
  const csv = readComputeAppsCsv(outcome.stdout);
  if (csv) return { ok: true, apps: csv.apps };
  // Some drivers print nothing at all when no process runs.
  if (!outcome.stdout.trim() && !outcome.exitCode) return { ok: true, apps: [] };
  const all = `${outcome.stdout}\n${outcome.stderr ?? ''}`;
  const error =
    recognizeFailure(all) ??
    new NvidiaSmiError('unparseable', withExitCode('The process list is not --query-compute-apps CSV', outcome.exitCode), 'Run NVIDIA_SMI_COMPUTE_APPS_QUERY by hand in the pod.', excerptOf(all));
  return { ok: false, error };
}

/** What the caller ran in one pod. */
export interface PodProbe {
  pod: string;
  node: string;
  /** NVIDIA_SMI_GPU_QUERY, or NVIDIA_SMI_TABLE. */
  gpus: ExecOutcome;
  /** NVIDIA_SMI_COMPUTE_APPS_QUERY; leave it out when not run (the table lists processes itself). */
  processes?: ExecOutcome;
}

export type PodReading =
  | { pod: string; node: string; ok: true; reading: NvidiaSmiReading; /** Partial failures, e.g. the process list. */ notes: string[] }
  | { pod: string; node: string; ok: false; error: NvidiaSmiError };

// A process belongs to the GPU with its uuid, else its bus id, else to a pod's only GPU.
function belongsTo(app: ComputeApp, gpu: GpuReading, gpuCount: number): boolean {
  if (app.gpuUuid && gpu.uuid) return app.gpuUuid === gpu.uuid;
  if (app.gpuBusId && gpu.busId) return app.gpuBusId === gpu.busId;
  return gpuCount === 1;
}

/** One pod's probe, read: its GPUs with their processes, or the reason there are none. */
export function readPodProbe(probe: PodProbe): PodReading {
  const { pod, node } = probe;
  if (!probe.gpus.ok) return { pod, node, ok: false, error: execFailure(probe.gpus.error, probe.gpus.timedOut ?? false) };
  const result = readNvidiaSmi(probe.gpus);
  if (!result.ok) return { pod, node, ok: false, error: result.error };
  const { reading } = result;
  const notes: string[] = [];
  if (reading.format === 'csv' && probe.processes) {
    const apps = readComputeApps(probe.processes);
    if (!apps.ok) notes.push(`Processes unknown: ${apps.error.message}`);
    else {
      for (const gpu of reading.gpus) {
        gpu.processes = apps.apps.filter((a) => belongsTo(a, gpu, reading.gpus.length)).map(({ gpuUuid: _u, gpuBusId: _b, ...p }): GpuProcess => p);
      }
      const placed = reading.gpus.reduce((n, g) => n + (g.processes?.length ?? 0), 0);
      if (placed < apps.apps.length) notes.push(`${apps.apps.length - placed} process(es) run on a GPU nvidia-smi did not list.`);
    }
  }
  return { pod, node, ok: true, reading, notes };
}

/** True when the CSV query could not be read and the default table is worth a try. */
export function shouldReadTable(reading: PodReading): boolean {
  return !reading.ok && (reading.error.kind === 'invalid-field' || reading.error.kind === 'unparseable');
}
