// What one nvidia-smi run says about the GPUs of one pod, whichever format it came in.
// A field nvidia-smi did not report ([N/A], [Not Supported], ...) is undefined, never 0.

export interface GpuProcess {
  pid: number;
  /** As nvidia-smi shows it: the table truncates long names. */
  name: string;
  usedMemoryMiB?: number;
  /** C (compute), G (graphics), C+G; the table only. */
  type?: string;
  /** MIG: the GPU and compute instance the process runs in; the table only. */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

/** One MIG device (a GPU instance + compute instance), from the table's "MIG devices" block. */
export interface MigDevice {
  /** The "MIG Dev" column. */
  index: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  /** Streaming multiprocessors given to the instance. */
  smCount?: number;
  /** Volatile uncorrected ECC errors of the instance. */
  eccUncorrected?: number;
}

export interface GpuReading {
  /** The index nvidia-smi gives the GPU in this pod; a container numbers the GPUs it sees from 0. */
  index: number;
  name: string;
  uuid?: string;
  busId?: string;
  /** Undefined on a MIG-enabled GPU: nvidia-smi reports N/A there. */
  utilizationPercent?: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  temperatureC?: number;
  powerDrawW?: number;
  powerLimitW?: number;
  /** Volatile (since the driver loaded) uncorrected ECC errors. */
  eccUncorrected?: number;
  migEnabled: boolean;
  /** Active clock event ("throttle") reasons by NVML name; undefined when not reported. */
  clockEventReasons?: string[];
  migDevices: MigDevice[];
  /** Undefined when unknown (the process query failed or was not run), [] when none. */
  processes?: GpuProcess[];
}

export interface NvidiaSmiReading {
  format: 'csv' | 'table';
  driverVersion?: string;
  /** The table header only. */
  cudaVersion?: string;
  gpus: GpuReading[];
  /** Lines nvidia-smi printed besides the data (e.g. a GPU it could not read). */
  warnings: string[];
}
