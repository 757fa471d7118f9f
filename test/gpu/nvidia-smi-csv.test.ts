// `--format=csv` readers on the real captures: every figure below was read off the fixture files.
import { describe, expect, it } from 'vitest';
import { COMPUTE_APPS_FIELDS, GPU_QUERY_FIELDS } from '../../src/gpu/nvidia-smi-commands.js';
import { readComputeAppsCsv, readGpuQueryCsv } from '../../src/gpu/nvidia-smi-csv.js';
import { CAPTURES, SECTION, captureSection, projectCsv, readNvidiaSmiFixture, withCsvValue } from './nvidia-smi-fixtures.js';

const H100 = { name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-00000000-0000-0000-0000-000000000000', busId: '00000000:00:09.0' };
const H200 = { name: 'NVIDIA H200', uuid: 'GPU-00000000-0000-0000-0000-000000000000', busId: '00000000:83:00.0' };

const queryGpuCases = [
  { capture: CAPTURES.h100, phase: 'load', file: 'query-gpu-allfields_h100-80gb-hbm3_load.csv', gpu: { ...H100, utilizationPercent: 100, memoryUsedMiB: 19818, memoryTotalMiB: 81559, temperatureC: 59, powerDrawW: 631.95, migEnabled: false, clockEventReasons: [] } },
  { capture: CAPTURES.h100, phase: 'idle', gpu: { ...H100, utilizationPercent: 0, memoryUsedMiB: 0, memoryTotalMiB: 81559, temperatureC: 41, powerDrawW: 69.85, migEnabled: false, clockEventReasons: ['gpu_idle'] } },
  { capture: CAPTURES.mig, phase: 'load', file: 'query-gpu-allfields_h100-mig_load.csv', gpu: { ...H100, utilizationPercent: undefined, memoryUsedMiB: 11125, memoryTotalMiB: 81559, temperatureC: 53, powerDrawW: 433.78, migEnabled: true, clockEventReasons: [] } },
  { capture: CAPTURES.mig, phase: 'idle', gpu: { ...H100, utilizationPercent: undefined, memoryUsedMiB: 59, memoryTotalMiB: 81559, temperatureC: 42, powerDrawW: 71.15, migEnabled: true, clockEventReasons: ['gpu_idle'] } },
  { capture: CAPTURES.h200, phase: 'load', file: 'query-gpu-allfields_h200_load.csv', gpu: { ...H200, utilizationPercent: 100, memoryUsedMiB: 32362, memoryTotalMiB: 143771, temperatureC: 52, powerDrawW: 627.4, migEnabled: false, clockEventReasons: [] } },
  { capture: CAPTURES.h200, phase: 'idle', gpu: { ...H200, utilizationPercent: 0, memoryUsedMiB: 0, memoryTotalMiB: 143771, temperatureC: 28, powerDrawW: 77.71, migEnabled: false, clockEventReasons: ['gpu_idle'] } },
] as const;

describe('--query-gpu CSV, read by header name', () => {
  for (const c of queryGpuCases) {
    it(`${c.capture} ${c.phase}: the capture's figures, from its all-fields CSV`, () => {
      const section = captureSection(c.capture, SECTION.queryGpu(c.phase));
      const csv = readGpuQueryCsv(section);
      expect(csv).toEqual({
        driverVersion: '590.48.01',
        warnings: [],
        gpus: [{ index: 0, ...c.gpu, powerLimitW: 700, eccUncorrected: 0, migDevices: [] }],
      });
      // The standalone fixture is the same capture.
      if ('file' in c) expect(readGpuQueryCsv(readNvidiaSmiFixture(c.file))).toEqual(csv);
    });
  }

  it('reads our own query (derived: the capture projected to GPU_QUERY_FIELDS) the same way', () => {
    const allFields = captureSection(CAPTURES.h100, SECTION.queryGpu('load'));
    // 590 names the throttle field by its new name in the header; either is read.
    const ours = projectCsv(allFields, GPU_QUERY_FIELDS, { 'clocks_throttle_reasons.active': 'clocks_event_reasons.active' });
    expect(ours.split('\n')[0]).toBe(
      'index, uuid, name, pci.bus_id, driver_version, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu, power.draw [W], power.limit [W], ecc.errors.uncorrected.volatile.total, clocks_event_reasons.active, mig.mode.current',
    );
    expect(readGpuQueryCsv(ours)).toEqual(readGpuQueryCsv(allFields));
  });

  it('reads csv,noheader,nounits given the field list (derived: our projection, header and units dropped)', () => {
    const ours = projectCsv(captureSection(CAPTURES.h200, SECTION.queryGpu('load')), GPU_QUERY_FIELDS, { 'clocks_throttle_reasons.active': 'clocks_event_reasons.active' });
    const bare = ours.split('\n')[1]?.replace(/ (MiB|%|W)(?=,|$)/g, '') ?? '';
    expect(bare).toBe('0, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H200, 00000000:83:00.0, 590.48.01, 100, 32362, 143771, 52, 627.40, 700.00, 0, 0x0000000000000000, Disabled');
    expect(readGpuQueryCsv(bare)?.gpus).toEqual(readGpuQueryCsv(ours)?.gpus);
  });

  it("reads telegraf's real noheader,nounits line with telegraf's field list", () => {
    const telegrafFields = ['fan.speed', 'memory.total', 'memory.used', 'memory.free', 'pstate', 'temperature.gpu', 'name', 'uuid', 'compute_mode', 'utilization.gpu', 'utilization.memory', 'index'];
    const csv = readGpuQueryCsv(readNvidiaSmiFixture('query-gpu_noheader_nounits_gtx1070ti_telegraf2018.csv'), telegrafFields);
    expect(csv?.gpus).toEqual([
      {
        index: 1,
        name: 'GeForce GTX 1070 Ti',
        uuid: 'GPU-d1911b8a-f5c8-5e66-057c-486561269de8',
        busId: undefined,
        utilizationPercent: 100,
        memoryUsedMiB: 553,
        memoryTotalMiB: 8114,
        temperatureC: 61,
        powerDrawW: undefined,
        powerLimitW: undefined,
        eccUncorrected: undefined,
        migEnabled: false,
        clockEventReasons: undefined,
        migDevices: [],
      },
    ]);
  });

  it('reads every row of a multi-GPU output, and keeps stray lines as warnings (derived)', () => {
    const one = captureSection(CAPTURES.h100, SECTION.queryGpu('load')).trimEnd();
    const [header = '', row = ''] = one.split('\n');
    const second = withCsvValue(withCsvValue(`${header}\n${row}`, 'index', '1'), 'uuid', 'GPU-11111111-1111-1111-1111-111111111111').split('\n')[1];
    const csv = readGpuQueryCsv(`${header}\n${row}\nUnable to determine the device handle for GPU 0000:0A:00.0: Unknown Error\n${second}\n`);
    expect(csv?.gpus.map((g) => [g.index, g.uuid])).toEqual([
      [0, 'GPU-00000000-0000-0000-0000-000000000000'],
      [1, 'GPU-11111111-1111-1111-1111-111111111111'],
    ]);
    expect(csv?.warnings).toEqual(['Unable to determine the device handle for GPU 0000:0A:00.0: Unknown Error']);
  });

  it('turns every placeholder nvidia-smi prints into undefined, never 0 (derived)', () => {
    let csv = captureSection(CAPTURES.h100, SECTION.queryGpu('load'));
    csv = withCsvValue(csv, 'utilization.gpu', '[N/A]');
    csv = withCsvValue(csv, 'power.draw', '[Not Supported]');
    csv = withCsvValue(csv, 'temperature.gpu', 'N/A');
    csv = withCsvValue(csv, 'ecc.errors.uncorrected.volatile.total', '[Unknown Error]');
    const [gpu] = readGpuQueryCsv(csv)?.gpus ?? [];
    expect(gpu).toMatchObject({ utilizationPercent: undefined, powerDrawW: undefined, temperatureC: undefined, eccUncorrected: undefined, memoryUsedMiB: 19818 });
  });

  it('decodes the clock event bitmask (derived: hw thermal slowdown + sw power cap)', () => {
    const csv = withCsvValue(captureSection(CAPTURES.h100, SECTION.queryGpu('load')), 'clocks_event_reasons.active', '0x0000000000000044');
    expect(readGpuQueryCsv(csv)?.gpus[0]?.clockEventReasons).toEqual(['sw_power_cap', 'hw_thermal_slowdown']);
  });

  it('is not fooled by the process list, error texts or an empty output', () => {
    expect(readGpuQueryCsv(readNvidiaSmiFixture('query-compute-apps_h100-80gb-hbm3_load.csv'))).toBeUndefined();
    expect(readGpuQueryCsv(readNvidiaSmiFixture('error_no_devices_found.txt'))).toBeUndefined();
    expect(readGpuQueryCsv('')).toBeUndefined();
    expect(readGpuQueryCsv(GPU_QUERY_FIELDS.map(() => 'x').join(', '))).toBeUndefined();
  });
});

const appsCases = [
  { capture: CAPTURES.h100, file: 'query-compute-apps_h100-80gb-hbm3_load.csv', apps: [[11327, '/root/tools/memhog', 2566], [11328, '/root/tools/memhog', 1542], [11345, './gpu_burn', 15690]] },
  { capture: CAPTURES.mig, file: 'query-compute-apps_h100-mig_load.csv', apps: [[21180, '/root/tools/memhog', 2296], [21181, '/root/tools/memhog', 1272], [21198, './gpu_burn', 7484]] },
  { capture: CAPTURES.h200, file: 'query-compute-apps_h200_load.csv', apps: [[10291, '/root/tools/memhog', 2566], [10293, '/root/tools/memhog', 1542], [10309, './gpu_burn', 28234]] },
] as const;

describe('--query-compute-apps CSV', () => {
  for (const c of appsCases) {
    it(`${c.file}: pids, names and memory as captured`, () => {
      const read = readComputeAppsCsv(readNvidiaSmiFixture(c.file));
      const busId = c.capture === CAPTURES.h200 ? H200.busId : H100.busId;
      expect(read).toEqual({
        warnings: [],
        apps: c.apps.map(([pid, name, usedMemoryMiB]) => ({ pid, name, usedMemoryMiB, gpuUuid: H100.uuid, gpuBusId: busId })),
      });
      expect(readComputeAppsCsv(captureSection(c.capture, SECTION.computeApps('load')))).toEqual(read);
    });

    it(`${c.capture} idle: a header alone is no process`, () => {
      expect(readComputeAppsCsv(captureSection(c.capture, SECTION.computeApps('idle')))).toEqual({ apps: [], warnings: [] });
    });
  }

  it('reads our own query, with and without header (derived: the capture projected to COMPUTE_APPS_FIELDS)', () => {
    const ours = projectCsv(readNvidiaSmiFixture('query-compute-apps_h200_load.csv'), COMPUTE_APPS_FIELDS);
    expect(ours.split('\n')[0]).toBe('gpu_uuid, pid, process_name, used_gpu_memory [MiB]');
    const expected = [10291, 10293, 10309].map((pid) => expect.objectContaining({ pid, gpuUuid: H200.uuid }));
    expect(readComputeAppsCsv(ours)?.apps).toEqual(expected);
    const bare = ours.split('\n').slice(1).join('\n').replace(/ MiB/g, '');
    expect(readComputeAppsCsv(bare)?.apps).toEqual(readComputeAppsCsv(ours)?.apps);
  });

  it('is not the GPU query, an error text or garbage', () => {
    expect(readComputeAppsCsv(readNvidiaSmiFixture('query-gpu-allfields_h200_load.csv'))).toBeUndefined();
    expect(readComputeAppsCsv(readNvidiaSmiFixture('error_no_devices_found.txt'))).toBeUndefined();
    expect(readComputeAppsCsv('a, b, c, d')).toBeUndefined();
  });
});
