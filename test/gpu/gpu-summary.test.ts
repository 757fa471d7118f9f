// Summaries and flags over pods backed by the real captures; the flag cases use variants
// derived in each test from a captured CSV (the edit is named in the test).
import { describe, expect, it } from 'vitest';
import { DEFAULT_GPU_THRESHOLDS, summariseGpus, type GpuThresholds } from '../../src/gpu/gpu-summary.js';
import { readPodProbe, type ExecOutcome, type PodReading } from '../../src/gpu/read-nvidia-smi.js';
import { CAPTURES, SECTION, captureSection, readNvidiaSmiFixture, withCsvValue } from './nvidia-smi-fixtures.js';

const completed = (stdout: string, exitCode = 0): ExecOutcome => ({ ok: true, stdout, exitCode });

function csvPod(pod: string, node: string, gpus: string, processes?: string): PodReading {
  return readPodProbe({ pod, node, gpus: completed(gpus), processes: processes === undefined ? undefined : completed(processes) });
}

// Four workers on the H100, H200 and MIG captures, one without a GPU, one whose exec hung.
const fleet: PodReading[] = [
  csvPod('w-h100-load', 'gpu-node-a', readNvidiaSmiFixture('query-gpu-allfields_h100-80gb-hbm3_load.csv'), readNvidiaSmiFixture('query-compute-apps_h100-80gb-hbm3_load.csv')),
  csvPod('w-h100-idle', 'gpu-node-a', captureSection(CAPTURES.h100, SECTION.queryGpu('idle')), captureSection(CAPTURES.h100, SECTION.computeApps('idle'))),
  csvPod('w-h200-load', 'gpu-node-b', readNvidiaSmiFixture('query-gpu-allfields_h200_load.csv'), readNvidiaSmiFixture('query-compute-apps_h200_load.csv')),
  csvPod('w-mig-load', 'gpu-node-c', readNvidiaSmiFixture('query-gpu-allfields_h100-mig_load.csv'), readNvidiaSmiFixture('query-compute-apps_h100-mig_load.csv')),
  readPodProbe({ pod: 'w-nodev', node: 'gpu-node-c', gpus: completed(readNvidiaSmiFixture('error_no_devices_found.txt'), 6) }),
  readPodProbe({ pod: 'w-hung', node: 'gpu-node-c', gpus: { ok: false, error: 'no answer within 15 s', timedOut: true } }),
];

describe('summariseGpus on the captured fleet', () => {
  const summary = summariseGpus(fleet);

  it('per GPU: the captures\' figures, processes and utilization ("MIG" where nvidia-smi has none)', () => {
    expect(summary.gpus.map((g) => [g.node, g.pod, g.name, g.utilizationText, g.memoryUsedMiB, g.memoryTotalMiB, g.memoryPercent, g.temperatureC, g.powerDrawW, g.powerLimitW, g.eccUncorrected])).toEqual([
      ['gpu-node-a', 'w-h100-idle', 'NVIDIA H100 80GB HBM3', '0 %', 0, 81559, 0, 41, 69.85, 700, 0],
      ['gpu-node-a', 'w-h100-load', 'NVIDIA H100 80GB HBM3', '100 %', 19818, 81559, 24.3, 59, 631.95, 700, 0],
      ['gpu-node-b', 'w-h200-load', 'NVIDIA H200', '100 %', 32362, 143771, 22.5, 52, 627.4, 700, 0],
      ['gpu-node-c', 'w-mig-load', 'NVIDIA H100 80GB HBM3', 'MIG', 11125, 81559, 13.6, 53, 433.78, 700, 0],
    ]);
    const load = summary.gpus.find((g) => g.pod === 'w-h100-load');
    expect(load?.processes).toEqual([
      { pid: 11327, name: '/root/tools/memhog', usedMemoryMiB: 2566 },
      { pid: 11328, name: '/root/tools/memhog', usedMemoryMiB: 1542 },
      { pid: 11345, name: './gpu_burn', usedMemoryMiB: 15690 },
    ]);
    expect(summary.gpus.find((g) => g.pod === 'w-mig-load')?.processes?.map((p) => [p.pid, p.usedMemoryMiB])).toEqual([[21180, 2296], [21181, 1272], [21198, 7484]]);
    expect(summary.gpus.find((g) => g.pod === 'w-h200-load')?.processes?.map((p) => [p.pid, p.name, p.usedMemoryMiB])).toEqual([
      [10291, '/root/tools/memhog', 2566],
      [10293, '/root/tools/memhog', 1542],
      [10309, './gpu_burn', 28234],
    ]);
    expect(summary.gpus.find((g) => g.pod === 'w-h100-idle')).toMatchObject({ processes: [], clockEventReasons: ['gpu_idle'] });
  });

  it('flags the idle H100 as under-used, not the MIG GPU, and both pods without figures', () => {
    expect(summary.status).toBe('fail');
    expect(summary.flags.map((f) => [f.severity, f.kind, f.pod, f.gpuIndex])).toEqual([
      ['fail', 'pod-failed', 'w-hung', undefined],
      ['fail', 'pod-failed', 'w-nodev', undefined],
      ['warn', 'under-used', 'w-h100-idle', 0],
    ]);
    expect(summary.flags[1]).toMatchObject({ message: 'w-nodev (gpu-node-c): nvidia-smi found no GPU in this pod.', hint: expect.stringContaining('nvidia.com/gpu') });
    expect(summary.flags[0]?.message).toBe('w-hung (gpu-node-c): nvidia-smi did not answer in time (no answer within 15 s).');
    expect(summary.flags[2]?.message).toBe('GPU 0 of w-h100-idle (gpu-node-a): utilization 0 % is under the 85 % target.');
    expect(summary.failedPods.map((p) => [p.pod, p.error.kind])).toEqual([['w-hung', 'timeout'], ['w-nodev', 'no-devices']]);
  });

  it('per node', () => {
    expect(summary.nodes.map((n) => [n.node, n.pods, n.podCount, n.failedPodCount, n.gpuCount, n.migGpuCount, n.meanUtilizationPercent, n.memoryUsedMiB, n.memoryTotalMiB, n.memoryPercent, n.powerDrawW, n.flaggedGpuCount, n.driverVersions])).toEqual([
      ['gpu-node-a', ['w-h100-idle', 'w-h100-load'], 2, 0, 2, 0, 50, 19818, 163118, 12.1, 701.8, 1, ['590.48.01']],
      ['gpu-node-b', ['w-h200-load'], 1, 0, 1, 0, 100, 32362, 143771, 22.5, 627.4, 0, ['590.48.01']],
      ['gpu-node-c', ['w-hung', 'w-mig-load', 'w-nodev'], 3, 2, 1, 1, undefined, 11125, 81559, 13.6, 433.78, 0, ['590.48.01']],
    ]);
  });

  it('overall: utilization averaged over the GPUs that report it', () => {
    expect(summary.overall).toEqual({
      podCount: 6,
      failedPodCount: 2,
      gpuCount: 4,
      migGpuCount: 1,
      meanUtilizationPercent: 66.7,
      utilizationGpuCount: 3,
      memoryUsedMiB: 63305,
      memoryTotalMiB: 388448,
      memoryPercent: 16.3,
      powerDrawW: 1762.98,
      eccUncorrected: 0,
      flaggedGpuCount: 1,
    });
    expect(summary.notes).toEqual([]);
  });

  it('the table fallback gives the same per-GPU picture for the loaded H200 (its own rounding)', () => {
    const fromTable = summariseGpus([readPodProbe({ pod: 'w', node: 'n', gpus: completed(readNvidiaSmiFixture('table_h200_load.txt')) })]);
    expect(fromTable.status).toBe('ok');
    expect(fromTable.gpus[0]).toMatchObject({ utilizationText: '100 %', memoryUsedMiB: 32362, memoryTotalMiB: 143771, temperatureC: 52, powerDrawW: 628, flags: [] });
    expect(fromTable.gpus[0]?.processes?.map((p) => p.pid)).toEqual([10291, 10293, 10309]);
  });
});

describe('flags on derived variants of the loaded H100 CSV', () => {
  const base = readNvidiaSmiFixture('query-gpu-allfields_h100-80gb-hbm3_load.csv');
  const flagsOf = (csv: string, thresholds: Partial<GpuThresholds> = {}) => summariseGpus([csvPod('w', 'n', csv)], thresholds).flags.map((f) => [f.kind, f.severity]);

  it('the captured H100 under load has no flag', () => {
    expect(flagsOf(base)).toEqual([]);
    expect(summariseGpus([csvPod('w', 'n', base)]).status).toBe('ok');
  });

  it('memory above 95 % (derived: memory.used 19818 → 78000 MiB of 81559)', () => {
    const summary = summariseGpus([csvPod('w', 'n', withCsvValue(base, 'memory.used', '78000 MiB'))]);
    expect(summary.flags).toEqual([expect.objectContaining({ kind: 'memory-high', severity: 'warn', message: 'GPU 0 of w (n): memory 78000 of 81559 MiB (95.6 %) is above 95 %: CUDA OOM risk.' })]);
    expect(summary.status).toBe('warn');
  });

  it('memory at exactly 95 % is not above it (derived: 95000 of 100000 MiB, then 95001)', () => {
    const at = withCsvValue(withCsvValue(base, 'memory.total', '100000 MiB'), 'memory.used', '95000 MiB');
    expect(flagsOf(at)).toEqual([]);
    expect(flagsOf(withCsvValue(at, 'memory.used', '95001 MiB'))).toEqual([['memory-high', 'warn']]);
  });

  it('temperature at 85 °C is flagged, 84 °C is not (derived: temperature.gpu 59 → 85, 84)', () => {
    expect(flagsOf(withCsvValue(base, 'temperature.gpu', '85'))).toEqual([['temperature-high', 'warn']]);
    expect(flagsOf(withCsvValue(base, 'temperature.gpu', '84'))).toEqual([]);
  });

  it('any uncorrected ECC error fails (derived: ecc.errors.uncorrected.volatile.total 0 → 1)', () => {
    const summary = summariseGpus([csvPod('w', 'n', withCsvValue(base, 'ecc.errors.uncorrected.volatile.total', '1'))]);
    expect(summary.flags.map((f) => [f.kind, f.severity])).toEqual([['ecc-errors', 'fail']]);
    expect(summary.status).toBe('fail');
    expect(summary.overall.eccUncorrected).toBe(1);
  });

  it('hardware slowdown, not a power cap or idling (derived: clocks_event_reasons.active 0x0 → 0x44, 0x5)', () => {
    expect(flagsOf(withCsvValue(base, 'clocks_event_reasons.active', '0x0000000000000044'))).toEqual([['clocks-slowed', 'warn']]);
    expect(flagsOf(withCsvValue(base, 'clocks_event_reasons.active', '0x0000000000000005'))).toEqual([]);
  });

  it('utilization just under the target (derived: utilization.gpu 100 → 84 %, 85 %)', () => {
    expect(flagsOf(withCsvValue(base, 'utilization.gpu', '84 %'))).toEqual([['under-used', 'warn']]);
    expect(flagsOf(withCsvValue(base, 'utilization.gpu', '85 %'))).toEqual([]);
  });

  it('a MIG GPU is never under-used: nvidia-smi has no utilization for it (derived: mig.mode.current → Enabled, utilization [N/A])', () => {
    const mig = withCsvValue(withCsvValue(base, 'mig.mode.current', 'Enabled'), 'utilization.gpu', '[N/A]');
    const summary = summariseGpus([csvPod('w', 'n', mig)], { utilizationTargetPercent: 100 });
    expect(summary.flags).toEqual([]);
    expect(summary.gpus[0]?.utilizationText).toBe('MIG');
    // Not MIG and no figure: unknown, not flagged either.
    expect(summariseGpus([csvPod('w', 'n', withCsvValue(base, 'utilization.gpu', '[N/A]'))]).gpus[0]?.utilizationText).toBe('n/a');
  });

  it('thresholds are parameters: the config block can be passed as is', () => {
    expect(DEFAULT_GPU_THRESHOLDS).toEqual({ utilizationTargetPercent: 85, memoryHighPercent: 95, temperatureHighCelsius: 85 });
    const configGpu = { execTimeoutSeconds: 15, concurrency: 16, utilizationTargetPercent: 101, memoryHighPercent: 20, temperatureHighCelsius: 50 };
    expect(flagsOf(base, configGpu)).toEqual([['under-used', 'warn'], ['memory-high', 'warn'], ['temperature-high', 'warn']]);
  });

  it('warnings nvidia-smi printed beside its data are a pod warning (derived: stderr line)', () => {
    const reading = readPodProbe({ pod: 'w', node: 'n', gpus: { ok: true, stdout: base, stderr: 'WARNING: infoROM is corrupted at gpu 0000:00:09.0', exitCode: 0 } });
    expect(summariseGpus([reading]).flags).toEqual([
      expect.objectContaining({ kind: 'pod-warning', severity: 'warn', message: 'w (n): nvidia-smi warned: WARNING: infoROM is corrupted at gpu 0000:00:09.0' }),
    ]);
  });

  it('a process list that failed is a note, not a flag', () => {
    const reading = readPodProbe({ pod: 'w', node: 'n', gpus: completed(base), processes: { ok: false, error: 'stream closed' } });
    const summary = summariseGpus([reading]);
    expect(summary.flags).toEqual([]);
    expect(summary.notes).toEqual([{ pod: 'w', node: 'n', note: 'Processes unknown: Could not run nvidia-smi in the pod: stream closed' }]);
  });

  it('no pods at all: an empty, ok summary', () => {
    expect(summariseGpus([])).toMatchObject({ status: 'ok', gpus: [], nodes: [], overall: { gpuCount: 0, memoryTotalMiB: 0, meanUtilizationPercent: undefined } });
  });
});
