// Every file in fixtures/nvidia-smi goes through the readers, so a new capture can't be left
// untested: an unknown file name fails here. The figures themselves are asserted in the
// format tests; this checks that each file lands where it should.
import { describe, expect, it } from 'vitest';
import { readComputeApps, readNvidiaSmi } from '../../src/gpu/read-nvidia-smi.js';
import { CAPTURES, SECTION, captureSections, nvidiaSmiFixtureFiles, readNvidiaSmiFixture } from './nvidia-smi-fixtures.js';

const TELEGRAF_FIELDS = ['fan.speed', 'memory.total', 'memory.used', 'memory.free', 'pstate', 'temperature.gpu', 'name', 'uuid', 'compute_mode', 'utilization.gpu', 'utilization.memory', 'index'];

type Expectation = { reads: 'csv' | 'table'; gpus: number } | { processes: number } | { error: string };

function expectationFor(file: string): Expectation | 'captures' | undefined {
  if (file.startsWith('captures/')) return 'captures';
  if (file.startsWith('table_8x_')) return { reads: 'table', gpus: 8 };
  if (file.startsWith('table_')) return { reads: 'table', gpus: 1 };
  if (file.startsWith('query-gpu')) return { reads: 'csv', gpus: 1 };
  if (file.startsWith('query-compute-apps_')) return { processes: 3 };
  if (file === 'error_no_devices_found.txt') return { error: 'no-devices' };
  if (file === 'error_driver_library_version_mismatch.txt') return { error: 'driver-library-mismatch' };
  if (file === 'error_failed_to_communicate_with_driver.txt') return { error: 'driver-unreachable' };
  if (file === 'query-q_h100_load.txt' || file.startsWith('xml/')) return { error: 'unsupported-format' };
  return undefined;
}

function check(text: string, expectation: Expectation, fields?: readonly string[]) {
  if ('processes' in expectation) {
    const apps = readComputeApps({ ok: true, stdout: text });
    expect(apps.ok && apps.apps.length).toBe(expectation.processes);
    return;
  }
  const result = readNvidiaSmi(text, fields);
  if ('error' in expectation) {
    expect(!result.ok && result.error.kind).toBe(expectation.error);
    return;
  }
  expect(result.ok && [result.reading.format, result.reading.gpus.length, result.reading.warnings]).toEqual([expectation.reads, expectation.gpus, []]);
}

describe('every nvidia-smi fixture', () => {
  const files = nvidiaSmiFixtureFiles();

  it('is known to this test', () => {
    expect(files.length).toBe(23);
    expect(files.filter((f) => expectationFor(f) === undefined)).toEqual([]);
  });

  for (const file of files) {
    const expectation = expectationFor(file);
    if (expectation === undefined || expectation === 'captures') continue;
    it(file, () => check(readNvidiaSmiFixture(file), expectation, file.includes('telegraf') ? TELEGRAF_FIELDS : undefined));
  }

  for (const capture of Object.values(CAPTURES)) {
    it(`captures/${capture}: its table, query-gpu, compute-apps and -q sections`, () => {
      const sections = captureSections(readNvidiaSmiFixture(`captures/${capture}`));
      for (const phase of ['idle', 'load'] as const) {
        const section = (title: string) => {
          const text = sections.get(title);
          if (text === undefined) throw new Error(`no "${title}"`);
          return text;
        };
        check(section(SECTION.table(phase)), { reads: 'table', gpus: 1 });
        check(section(SECTION.queryGpu(phase)), { reads: 'csv', gpus: 1 });
        check(section(SECTION.computeApps(phase)), { processes: phase === 'load' ? 3 : 0 });
        check(section(`${phase} :: query (-q)`), { error: 'unsupported-format' });
      }
    });
  }

  it('reads pathological inputs in linear time (derived: 100 kB runs inside the MIG table)', () => {
    const table = readNvidiaSmiFixture('table_h100-mig_load.txt');
    const started = performance.now();
    for (const [from, to] of [['432W', '9'.repeat(100_000)], ['52C', '5'.repeat(100_000)], ['11125MiB', '1'.repeat(100_000)], ['NVIDIA H100 80GB HBM3', 'x '.repeat(50_000)], ['./gpu_burn', ' 1'.repeat(50_000)]] as const) {
      const variant = table.replace(from, to);
      expect(variant).not.toBe(table);
      readNvidiaSmi(variant);
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
