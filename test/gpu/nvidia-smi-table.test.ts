// The default table, on every table_* fixture and the captures' table sections: two driver
// generations (550's 8-GPU table, 590's), with and without MIG. Figures read off the files.
import { describe, expect, it } from 'vitest';
import type { GpuReading } from '../../src/gpu/gpu-reading.js';
import { readNvidiaSmiTable } from '../../src/gpu/nvidia-smi-table.js';
import { CAPTURES, SECTION, captureSection, readNvidiaSmiFixture } from './nvidia-smi-fixtures.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const proc = (pid: number, name: string, usedMemoryMiB: number, gi?: number, ci?: number) => ({ pid, name, usedMemoryMiB, type: 'C', gpuInstanceId: gi, computeInstanceId: ci });

const singleGpuCases: Array<{ file: string; capture: string; phase: 'idle' | 'load'; gpu: Partial<GpuReading> }> = [
  {
    file: 'table_h100-80gb-hbm3_load.txt',
    capture: CAPTURES.h100,
    phase: 'load',
    gpu: {
      name: H100, busId: '00000000:00:09.0', utilizationPercent: 100, memoryUsedMiB: 19818, memoryTotalMiB: 81559, temperatureC: 59, powerDrawW: 629, eccUncorrected: 0, migEnabled: false,
      processes: [proc(11327, '/root/tools/memhog', 2566), proc(11328, '/root/tools/memhog', 1542), proc(11345, './gpu_burn', 15690)],
    },
  },
  {
    file: 'table_h100-80gb-hbm3_idle.txt',
    capture: CAPTURES.h100,
    phase: 'idle',
    gpu: { name: H100, busId: '00000000:00:09.0', utilizationPercent: 0, memoryUsedMiB: 0, memoryTotalMiB: 81559, temperatureC: 41, powerDrawW: 69, eccUncorrected: 0, migEnabled: false, processes: [] },
  },
  {
    file: 'table_h200_load.txt',
    capture: CAPTURES.h200,
    phase: 'load',
    gpu: {
      name: 'NVIDIA H200', busId: '00000000:83:00.0', utilizationPercent: 100, memoryUsedMiB: 32362, memoryTotalMiB: 143771, temperatureC: 52, powerDrawW: 628, eccUncorrected: 0, migEnabled: false,
      processes: [proc(10291, '/root/tools/memhog', 2566), proc(10293, '/root/tools/memhog', 1542), proc(10309, './gpu_burn', 28234)],
    },
  },
  {
    file: 'table_h200_idle.txt',
    capture: CAPTURES.h200,
    phase: 'idle',
    gpu: { name: 'NVIDIA H200', busId: '00000000:83:00.0', utilizationPercent: 0, memoryUsedMiB: 0, memoryTotalMiB: 143771, temperatureC: 28, powerDrawW: 77, eccUncorrected: 0, migEnabled: false, processes: [] },
  },
  {
    file: 'table_h100-mig_load.txt',
    capture: CAPTURES.mig,
    phase: 'load',
    gpu: {
      name: H100, busId: '00000000:00:09.0', utilizationPercent: undefined, memoryUsedMiB: 11125, memoryTotalMiB: 81559, temperatureC: 52, powerDrawW: 432, eccUncorrected: 0, migEnabled: true,
      processes: [proc(21180, '/root/tools/memhog', 2296, 2, 0), proc(21181, '/root/tools/memhog', 1272, 2, 0), proc(21198, './gpu_burn', 7484, 2, 0)],
    },
  },
  {
    file: 'table_h100-mig_idle.txt',
    capture: CAPTURES.mig,
    phase: 'idle',
    gpu: { name: H100, busId: '00000000:00:09.0', utilizationPercent: undefined, memoryUsedMiB: 59, memoryTotalMiB: 81559, temperatureC: 42, powerDrawW: 98, eccUncorrected: 0, migEnabled: true, processes: [] },
  },
];

describe('the default table (driver 590)', () => {
  for (const c of singleGpuCases) {
    it(`${c.file}: the GPU row and its processes`, () => {
      const reading = readNvidiaSmiTable(readNvidiaSmiFixture(c.file));
      expect(reading).toMatchObject({ format: 'table', driverVersion: '590.48.01', cudaVersion: '13.1', warnings: [] });
      expect(reading?.gpus).toHaveLength(1);
      expect(reading?.gpus[0]).toMatchObject({ index: 0, powerLimitW: 700, ...c.gpu });
      expect(reading?.gpus[0]?.processes).toEqual(c.gpu.processes);
      // The capture's section is the same table.
      expect(readNvidiaSmiTable(captureSection(c.capture, SECTION.table(c.phase)))).toEqual(reading);
    });
  }

  it('table_h100-mig_load.txt: the MIG devices block, per instance', () => {
    const gpu = readNvidiaSmiTable(readNvidiaSmiFixture('table_h100-mig_load.txt'))?.gpus[0];
    expect(gpu?.migDevices).toEqual([
      { index: 0, gpuInstanceId: 2, computeInstanceId: 0, memoryUsedMiB: 11091, memoryTotalMiB: 40448, smCount: 60, eccUncorrected: 0 },
      { index: 1, gpuInstanceId: 3, computeInstanceId: 0, memoryUsedMiB: 17, memoryTotalMiB: 20096, smCount: 32, eccUncorrected: 0 },
      { index: 2, gpuInstanceId: 9, computeInstanceId: 0, memoryUsedMiB: 9, memoryTotalMiB: 9984, smCount: 16, eccUncorrected: 0 },
      { index: 3, gpuInstanceId: 10, computeInstanceId: 0, memoryUsedMiB: 9, memoryTotalMiB: 9984, smCount: 16, eccUncorrected: 0 },
    ]);
    const idle = readNvidiaSmiTable(readNvidiaSmiFixture('table_h100-mig_idle.txt'))?.gpus[0];
    expect(idle?.migDevices.map((d) => d.memoryUsedMiB)).toEqual([26, 17, 9, 9]);
  });

  it('sums the MIG devices\' ECC counts, since the GPU row shows "On" (derived: 2 errors on MIG device 1)', () => {
    const table = readNvidiaSmiFixture('table_h100-mig_load.txt').replace('|  0    3   0   1  |              17MiB / 20096MiB    | 32      0 |', '|  0    3   0   1  |              17MiB / 20096MiB    | 32      2 |');
    expect(table).not.toBe(readNvidiaSmiFixture('table_h100-mig_load.txt'));
    expect(readNvidiaSmiTable(table)?.gpus[0]?.eccUncorrected).toBe(2);
  });
});

describe('the default table (driver 550, 8 GPUs, other widths and header border)', () => {
  const reading = readNvidiaSmiTable(readNvidiaSmiFixture('table_8x_h100_idle_modal-gpu-glossary.txt'));

  it('reads all eight GPU rows', () => {
    expect(reading).toMatchObject({ format: 'table', driverVersion: '550.90.07', cudaVersion: '12.4', warnings: [] });
    expect(reading?.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(reading?.gpus.map((g) => g.busId)).toEqual(['53', '64', '75', '86', '97', 'A8', 'B9', 'CA'].map((bus) => `00000000:${bus}:00.0`));
    expect(reading?.gpus.map((g) => g.temperatureC)).toEqual([25, 27, 26, 27, 27, 25, 26, 24]);
    expect(reading?.gpus.map((g) => g.powerDrawW)).toEqual([92, 93, 96, 93, 95, 91, 91, 91]);
    for (const gpu of reading?.gpus ?? []) {
      expect(gpu).toMatchObject({ name: H100, utilizationPercent: 0, memoryUsedMiB: 1, memoryTotalMiB: 81559, powerLimitW: 700, eccUncorrected: 0, migEnabled: false });
    }
  });

  it('has no Processes box, so the processes are unknown rather than none', () => {
    for (const gpu of reading?.gpus ?? []) expect(gpu.processes).toBeUndefined();
  });
});

describe('table robustness', () => {
  it('does not depend on column widths (derived: every run of spaces in the 590 table doubled)', () => {
    const original = readNvidiaSmiFixture('table_h100-80gb-hbm3_load.txt');
    const widened = original.replace(/ {2,}/g, (spaces) => `${spaces}${spaces}`);
    expect(readNvidiaSmiTable(widened)).toEqual(readNvidiaSmiTable(original));
  });

  it('reads a table with Windows line ends (derived)', () => {
    const original = readNvidiaSmiFixture('table_h200_load.txt');
    expect(readNvidiaSmiTable(original.replace(/\n/g, '\r\n'))).toEqual(readNvidiaSmiTable(original));
  });

  it('is undefined for anything that is not the table', () => {
    for (const file of ['query-gpu-allfields_h100-80gb-hbm3_load.csv', 'error_no_devices_found.txt', 'query-q_h100_load.txt']) {
      expect(readNvidiaSmiTable(readNvidiaSmiFixture(file)), file).toBeUndefined();
    }
    expect(readNvidiaSmiTable('')).toBeUndefined();
    expect(readNvidiaSmiTable('+---+\n|===|\n| x |\n+---+')).toBeUndefined();
  });
});
