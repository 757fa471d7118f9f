// What the `gpu` command reports: per GPU, per node and overall, with the runbook's flags.
// Input is the pods' readings (readPodProbe); thresholds default to the runbook's and take the
// config's `gpu` block as is.
import type { GpuProcess, GpuReading, MigDevice } from './gpu-reading.js';
import type { NvidiaSmiError } from './nvidia-smi-errors.js';
import type { PodReading } from './read-nvidia-smi.js';

export interface GpuThresholds {
  /** Below this utilization a GPU is under-used: the runbook's target. */
  utilizationTargetPercent: number;
  /** Above this share of memory in use a GPU risks CUDA OOM. */
  memoryHighPercent: number;
  /** At or above this a GPU runs hot. */
  temperatureHighCelsius: number;
}

export const DEFAULT_GPU_THRESHOLDS: Readonly<GpuThresholds> = Object.freeze({
  utilizationTargetPercent: 85,
  memoryHighPercent: 95,
  temperatureHighCelsius: 85,
});

export type GpuFlagKind =
  | 'under-used'
  | 'memory-high'
  | 'temperature-high'
  | 'ecc-errors'
  /** Clocks held down by heat or a power brake. */
  | 'clocks-slowed'
  /** nvidia-smi failed or timed out in the pod (the error's kind says which). */
  | 'pod-failed'
  /** nvidia-smi answered, but also printed warnings (e.g. about a GPU it could not read). */
  | 'pod-warning';

export interface GpuFlag {
  kind: GpuFlagKind;
  severity: 'warn' | 'fail';
  pod: string;
  node: string;
  /** Undefined when the flag is about the whole pod. */
  gpuIndex?: number;
  message: string;
  hint?: string;
}

export interface GpuSummary {
  pod: string;
  node: string;
  index: number;
  name: string;
  uuid?: string;
  busId?: string;
  mig: boolean;
  utilizationPercent?: number;
  /** "100 %"; "MIG" on a MIG-enabled GPU, which has no whole-GPU utilization; "n/a" otherwise. */
  utilizationText: string;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  /** Used over total, rounded to 0.1. */
  memoryPercent?: number;
  temperatureC?: number;
  powerDrawW?: number;
  powerLimitW?: number;
  eccUncorrected?: number;
  clockEventReasons: string[];
  migDevices: MigDevice[];
  /** Undefined when unknown, [] when none. */
  processes?: GpuProcess[];
  flags: GpuFlag[];
}

/** Figures over a set of pods and their GPUs: one node's, or all. */
export interface GpuTotals {
  podCount: number;
  failedPodCount: number;
  gpuCount: number;
  migGpuCount: number;
  /** Mean over the GPUs that report utilization (MIG ones don't), rounded to 0.1. */
  meanUtilizationPercent?: number;
  utilizationGpuCount: number;
  memoryUsedMiB: number;
  memoryTotalMiB: number;
  /** Rounded to 0.1. */
  memoryPercent?: number;
  /** Rounded to 0.01. */
  powerDrawW: number;
  eccUncorrected: number;
  flaggedGpuCount: number;
}

export interface NodeGpuSummary extends GpuTotals {
  node: string;
  pods: string[];
  /** More than one means the node's pods disagree: worth a look. */
  driverVersions: string[];
}

export interface GpuFleetSummary {
  /** fail when any flag fails (ECC errors, a pod without figures), warn when any warns. */
  status: 'ok' | 'warn' | 'fail';
  gpus: GpuSummary[];
  nodes: NodeGpuSummary[];
  overall: GpuTotals;
  /** Every flag, failures first. */
  flags: GpuFlag[];
  failedPods: Array<{ pod: string; node: string; error: NvidiaSmiError }>;
  /** Partial failures worth a line, e.g. a process list that could not be read. */
  notes: Array<{ pod: string; node: string; note: string }>;
}

const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;
const percent = (part: number | undefined, whole: number | undefined) =>
  part !== undefined && whole !== undefined && whole > 0 ? (part / whole) * 100 : undefined;
const sum = (values: ReadonlyArray<number | undefined>) => values.reduce<number>((a, b) => a + (b ?? 0), 0);

// Reasons that mean the hardware is protecting itself, not merely idle or power-capped.
const SLOWDOWN_REASONS = new Set(['hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown', 'sw_thermal_slowdown']);

function gpuFlags(gpu: GpuReading, pod: string, node: string, t: GpuThresholds): GpuFlag[] {
  const at = { pod, node, gpuIndex: gpu.index };
  const where = `GPU ${gpu.index} of ${pod} (${node})`;
  const flags: GpuFlag[] = [];
  if (!gpu.migEnabled && gpu.utilizationPercent !== undefined && gpu.utilizationPercent < t.utilizationTargetPercent) {
    flags.push({ ...at, kind: 'under-used', severity: 'warn', message: `${where}: utilization ${gpu.utilizationPercent} % is under the ${t.utilizationTargetPercent} % target.` });
  }
  const memory = percent(gpu.memoryUsedMiB, gpu.memoryTotalMiB);
  if (memory !== undefined && memory > t.memoryHighPercent) {
    flags.push({
      ...at,
      kind: 'memory-high',
      severity: 'warn',
      message: `${where}: memory ${gpu.memoryUsedMiB} of ${gpu.memoryTotalMiB} MiB (${round(memory, 1)} %) is above ${t.memoryHighPercent} %: CUDA OOM risk.`,
      hint: "vLLM takes gpu_memory_utilization of the GPU up front; more than that means another process or too high a setting: check the GPU's processes.",
    });
  }
  if (gpu.temperatureC !== undefined && gpu.temperatureC >= t.temperatureHighCelsius) {
    flags.push({ ...at, kind: 'temperature-high', severity: 'warn', message: `${where}: ${gpu.temperatureC} °C (limit ${t.temperatureHighCelsius} °C).`, hint: "Check the node's cooling; a hot GPU slows its clocks." });
  }
  if (gpu.eccUncorrected !== undefined && gpu.eccUncorrected > 0) {
    flags.push({
      ...at,
      kind: 'ecc-errors',
      severity: 'fail',
      message: `${where}: ${gpu.eccUncorrected} uncorrected ECC error(s) since the driver loaded.`,
      hint: 'Results on this GPU may be corrupt: drain the node and reset the GPU (or reboot); if the errors come back, have the GPU replaced.',
    });
  }
  const slowdowns = (gpu.clockEventReasons ?? []).filter((r) => SLOWDOWN_REASONS.has(r));
  if (slowdowns.length > 0) {
    flags.push({ ...at, kind: 'clocks-slowed', severity: 'warn', message: `${where}: clocks slowed (${slowdowns.join(', ')}).`, hint: "Check the node's cooling and power supply." });
  }
  return flags;
}

function gpuSummary(gpu: GpuReading, pod: string, node: string, t: GpuThresholds): GpuSummary {
  const memory = percent(gpu.memoryUsedMiB, gpu.memoryTotalMiB);
  return {
    pod,
    node,
    index: gpu.index,
    name: gpu.name,
    uuid: gpu.uuid,
    busId: gpu.busId,
    mig: gpu.migEnabled,
    utilizationPercent: gpu.utilizationPercent,
    utilizationText: gpu.utilizationPercent !== undefined ? `${gpu.utilizationPercent} %` : gpu.migEnabled ? 'MIG' : 'n/a',
    memoryUsedMiB: gpu.memoryUsedMiB,
    memoryTotalMiB: gpu.memoryTotalMiB,
    memoryPercent: memory === undefined ? undefined : round(memory, 1),
    temperatureC: gpu.temperatureC,
    powerDrawW: gpu.powerDrawW,
    powerLimitW: gpu.powerLimitW,
    eccUncorrected: gpu.eccUncorrected,
    clockEventReasons: gpu.clockEventReasons ?? [],
    migDevices: gpu.migDevices,
    processes: gpu.processes,
    flags: gpuFlags(gpu, pod, node, t),
  };
}

function totals(pods: readonly PodReading[], gpus: readonly GpuSummary[]): GpuTotals {
  const utilizations = gpus.map((g) => g.utilizationPercent).filter((u): u is number => u !== undefined);
  const memoryUsedMiB = sum(gpus.map((g) => g.memoryUsedMiB));
  const memoryTotalMiB = sum(gpus.map((g) => g.memoryTotalMiB));
  const memory = percent(memoryUsedMiB, memoryTotalMiB);
  return {
    podCount: pods.length,
    failedPodCount: pods.filter((p) => !p.ok).length,
    gpuCount: gpus.length,
    migGpuCount: gpus.filter((g) => g.mig).length,
    meanUtilizationPercent: utilizations.length > 0 ? round(sum(utilizations) / utilizations.length, 1) : undefined,
    utilizationGpuCount: utilizations.length,
    memoryUsedMiB,
    memoryTotalMiB,
    memoryPercent: memory === undefined ? undefined : round(memory, 1),
    powerDrawW: round(sum(gpus.map((g) => g.powerDrawW)), 2),
    eccUncorrected: sum(gpus.map((g) => g.eccUncorrected)),
    flaggedGpuCount: gpus.filter((g) => g.flags.length > 0).length,
  };
}

function podFlags(pod: PodReading): GpuFlag[] {
  const { pod: name, node } = pod;
  if (!pod.ok) {
    return [{ pod: name, node, kind: 'pod-failed', severity: 'fail', message: `${name} (${node}): ${pod.error.message}`, hint: pod.error.hint }];
  }
  if (pod.reading.warnings.length === 0) return [];
  return [{ pod: name, node, kind: 'pod-warning', severity: 'warn', message: `${name} (${node}): nvidia-smi warned: ${pod.reading.warnings.join('; ')}` }];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The fleet's GPUs, nodes and flags from each pod's reading. */
export function summariseGpus(pods: readonly PodReading[], thresholds: Partial<GpuThresholds> = {}): GpuFleetSummary {
  const t: GpuThresholds = {
    utilizationTargetPercent: thresholds.utilizationTargetPercent ?? DEFAULT_GPU_THRESHOLDS.utilizationTargetPercent,
    memoryHighPercent: thresholds.memoryHighPercent ?? DEFAULT_GPU_THRESHOLDS.memoryHighPercent,
    temperatureHighCelsius: thresholds.temperatureHighCelsius ?? DEFAULT_GPU_THRESHOLDS.temperatureHighCelsius,
  };
  const sorted = [...pods].sort((a, b) => byName(a.node, b.node) || byName(a.pod, b.pod));
  const gpus = sorted.flatMap((p) => (p.ok ? p.reading.gpus.map((g) => gpuSummary(g, p.pod, p.node, t)) : []));

  const nodes = [...new Set(sorted.map((p) => p.node))].map((node): NodeGpuSummary => {
    const nodePods = sorted.filter((p) => p.node === node);
    const driverVersions = nodePods.flatMap((p) => (p.ok && p.reading.driverVersion ? [p.reading.driverVersion] : []));
    return { node, pods: nodePods.map((p) => p.pod), driverVersions: [...new Set(driverVersions)], ...totals(nodePods, gpus.filter((g) => g.node === node)) };
  });

  const flags = [...sorted.flatMap(podFlags), ...gpus.flatMap((g) => g.flags)];
  flags.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'fail' ? -1 : 1));
  const status = flags.some((f) => f.severity === 'fail') ? 'fail' : flags.length > 0 ? 'warn' : 'ok';

  return {
    status,
    gpus,
    nodes,
    overall: totals(sorted, gpus),
    flags,
    failedPods: sorted.flatMap((p) => (p.ok ? [] : [{ pod: p.pod, node: p.node, error: p.error }])),
    notes: sorted.flatMap((p) => (p.ok ? p.notes.map((note) => ({ pod: p.pod, node: p.node, note })) : [])),
  };
}
