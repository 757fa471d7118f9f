// What the `gpu` command runs in each Ray GPU worker pod. Always argv, never a shell.
//
// Why two invocations and not one: nvidia-smi takes exactly one selective query per run
// (`nvidia-smi -h`, driver 590: "SELECTIVE QUERY OPTIONS ... [one of] --query-gpu,
// --query-compute-apps, ..."), and joining them with `sh -c` is ruled out (no shell, ever).
// The two execs are independent, so the caller runs them concurrently in the same pod: the
// wall time is that of one exec. The per-GPU figures come from the first alone; the process
// list is an extra that may fail without losing them.
// `-q`/`-q -x` would be one exec, but their keys were renamed across drivers (Power Readings →
// GPU Power Readings, Clocks Throttle Reasons → Clocks Event Reasons, ECC Single/Double Bit →
// SRAM/DRAM), while --query-gpu field names keep aliases. The default table is the fallback:
// one exec, processes included, but a layout made for people.

/**
 * The --query-gpu fields, by the names every driver since 450 (the first with MIG) accepts.
 * One unknown name makes nvidia-smi reject the whole query, so nothing newer than that is
 * asked for: `clocks_throttle_reasons.active` is still accepted by 590 as an alias of
 * `clocks_event_reasons.active`, while the new name is unknown before 535.
 */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'ecc.errors.uncorrected.volatile.total',
  'clocks_throttle_reasons.active',
  'mig.mode.current',
] as const;

/** The --query-compute-apps fields; `used_gpu_memory` is the canonical name of `used_memory`. */
export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_gpu_memory'] as const;

/** Per-GPU figures, CSV with a header (read by header name). */
export const NVIDIA_SMI_GPU_QUERY: readonly string[] = Object.freeze([
  'nvidia-smi',
  `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
  '--format=csv',
]);

/** The processes holding GPU memory, CSV with a header. Run alongside NVIDIA_SMI_GPU_QUERY. */
export const NVIDIA_SMI_COMPUTE_APPS_QUERY: readonly string[] = Object.freeze([
  'nvidia-smi',
  `--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`,
  '--format=csv',
]);

/** The default table: the fallback when a driver rejects the CSV query, and the one-exec option. */
export const NVIDIA_SMI_TABLE: readonly string[] = Object.freeze(['nvidia-smi']);

/**
 * Names nvidia-smi accepts for the same field, mapped to the names above. Headers may echo
 * either (590 prints `clocks_event_reasons.active` and `used_gpu_memory [MiB]`).
 */
export const GPU_FIELD_ALIASES: Readonly<Record<string, string>> = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  gpu_bus_id: 'pci.bus_id',
  'clocks_event_reasons.active': 'clocks_throttle_reasons.active',
};

export const COMPUTE_APPS_FIELD_ALIASES: Readonly<Record<string, string>> = {
  used_memory: 'used_gpu_memory',
  name: 'process_name',
};
