// The argvs the gpu command runs, checked against the captured `nvidia-smi -h` and
// `--help-query-*` of driver 590: one unknown field makes nvidia-smi reject the whole query.
import { describe, expect, it } from 'vitest';
import {
  COMPUTE_APPS_FIELDS,
  GPU_QUERY_FIELDS,
  NVIDIA_SMI_COMPUTE_APPS_QUERY,
  NVIDIA_SMI_GPU_QUERY,
  NVIDIA_SMI_TABLE,
} from '../../src/gpu/nvidia-smi-commands.js';
import { CAPTURES, SECTION, captureSection } from './nvidia-smi-fixtures.js';

// `"name"` or `"a" or "b"` at the start of a line of --help-query-*.
const helpFieldNames = (help: string) =>
  new Set(help.split('\n').flatMap((line) => (/^"/.test(line) ? [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '') : [])));

describe('nvidia-smi argvs', () => {
  it('are argv arrays that start with nvidia-smi: no shell anywhere', () => {
    for (const argv of [NVIDIA_SMI_GPU_QUERY, NVIDIA_SMI_COMPUTE_APPS_QUERY, NVIDIA_SMI_TABLE]) {
      expect(argv[0]).toBe('nvidia-smi');
      expect(argv.join(' ')).not.toMatch(/[;&|$`<>]|\bsh\b/);
      expect(Object.isFrozen(argv)).toBe(true);
    }
    expect(NVIDIA_SMI_GPU_QUERY).toEqual([
      'nvidia-smi',
      '--query-gpu=index,uuid,name,pci.bus_id,driver_version,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit,ecc.errors.uncorrected.volatile.total,clocks_throttle_reasons.active,mig.mode.current',
      '--format=csv',
    ]);
    expect(NVIDIA_SMI_COMPUTE_APPS_QUERY).toEqual(['nvidia-smi', '--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory', '--format=csv']);
  });

  it('ask only for fields the captured driver 590 documents', () => {
    const gpuFields = helpFieldNames(captureSection(CAPTURES.h100, SECTION.helpQueryGpu));
    expect(gpuFields.size).toBeGreaterThan(150);
    for (const field of GPU_QUERY_FIELDS) expect(gpuFields, field).toContain(field);
    const appFields = helpFieldNames(captureSection(CAPTURES.h100, SECTION.helpQueryComputeApps));
    for (const field of COMPUTE_APPS_FIELDS) expect(appFields, field).toContain(field);
  });

  it('need two runs because nvidia-smi takes one selective query at a time (captured -h)', () => {
    const help = captureSection(CAPTURES.h100, SECTION.help);
    expect(help).toMatch(/SELECTIVE QUERY OPTIONS:[\s\S]*?\[one of\][\s\S]*?--query-gpu[\s\S]*?--query-compute-apps/);
  });
});
