// The per-pod entry points: the error fixtures become typed errors with a hint, exec failures
// and timeouts too, garbage becomes a clear error, and nothing throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NvidiaSmiError } from '../../src/gpu/nvidia-smi-errors.js';
import { readComputeApps, readNvidiaSmi, readPodProbe, shouldReadTable, type ExecOutcome } from '../../src/gpu/read-nvidia-smi.js';
import { UserFacingError } from '../../src/core/errors.js';
import { CAPTURES, SECTION, captureSection, readNvidiaSmiFixture } from './nvidia-smi-fixtures.js';

const completed = (stdout: string, exitCode = 0, stderr = ''): ExecOutcome => ({ ok: true, stdout, stderr, exitCode });

function errorOf(result: ReturnType<typeof readNvidiaSmi>): NvidiaSmiError {
  if (result.ok) throw new Error('expected an error');
  return result.error;
}

describe('error outputs become typed errors with a hint', () => {
  it('error_no_devices_found.txt: the pod got no GPU', () => {
    // nvidia-smi exits 6 with this text.
    const error = errorOf(readNvidiaSmi({ stdout: readNvidiaSmiFixture('error_no_devices_found.txt'), exitCode: 6 }));
    expect(error).toBeInstanceOf(NvidiaSmiError);
    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.kind).toBe('no-devices');
    expect(error.message).toBe('nvidia-smi found no GPU in this pod.');
    expect(error.hint).toMatch(/nvidia\.com\/gpu.*device plugin/);
    expect(error.excerpt).toContain('No devices were found');
  });

  it('error_driver_library_version_mismatch.txt: names the library version and says reboot', () => {
    const error = errorOf(readNvidiaSmi(readNvidiaSmiFixture('error_driver_library_version_mismatch.txt')));
    expect(error.kind).toBe('driver-library-mismatch');
    expect(error.message).toBe('The NVIDIA driver and its library differ on the node (NVML library 550.144).');
    expect(error.hint).toMatch(/drain the node, then reboot/);
  });

  it('error_failed_to_communicate_with_driver.txt: the driver is not loaded', () => {
    const error = errorOf(readNvidiaSmi(readNvidiaSmiFixture('error_failed_to_communicate_with_driver.txt')));
    expect(error.kind).toBe('driver-unreachable');
    expect(error.hint).toMatch(/driver pod/);
  });

  it('finds the text on stderr as well as stdout', () => {
    const error = errorOf(readNvidiaSmi({ stdout: '', stderr: readNvidiaSmiFixture('error_failed_to_communicate_with_driver.txt'), exitCode: 9 }));
    expect(error.kind).toBe('driver-unreachable');
  });

  it('other NVML failures, a lost GPU and an unknown field (derived texts)', () => {
    const unknown = errorOf(readNvidiaSmi('Failed to initialize NVML: Unknown Error\n'));
    expect(unknown.kind).toBe('nvml-init-failed');
    expect(unknown.message).toBe('nvidia-smi could not initialize NVML: Unknown Error.');
    expect(unknown.hint).toMatch(/restart the pod/);
    expect(errorOf(readNvidiaSmi('Unable to determine the device handle for GPU0000:0A:00.0: GPU is lost.  Reboot the system to recover this GPU\n')).kind).toBe('gpu-lost');
    const field = errorOf(readNvidiaSmi({ stdout: 'Field "mig.mode.current" is not a valid field to query.\n\n', exitCode: 2 }));
    expect(field.kind).toBe('invalid-field');
    expect(field.message).toContain('"mig.mode.current"');
  });

  it('formats it does not read are named, not guessed at', () => {
    expect(errorOf(readNvidiaSmi(readNvidiaSmiFixture('query-q_h100_load.txt'))).kind).toBe('unsupported-format');
    expect(errorOf(readNvidiaSmi(readNvidiaSmiFixture('xml/telegraf_tesla-t4.xml'))).message).toContain('XML');
    expect(errorOf(readNvidiaSmi(readNvidiaSmiFixture('xml/telegraf_a100-sxm4-v12.xml'))).kind).toBe('unsupported-format');
  });

  it('empty and garbage outputs are clear errors, with the exit code', () => {
    const empty = errorOf(readNvidiaSmi({ stdout: '  \n', exitCode: 255 }));
    expect(empty.kind).toBe('empty');
    expect(empty.message).toBe('nvidia-smi printed nothing (exit code 255)');
    const garbage = errorOf(readNvidiaSmi({ stdout: 'Segmentation fault\n', exitCode: 139 }));
    expect(garbage.kind).toBe('unparseable');
    expect(garbage.message).toContain('(exit code 139)');
    expect(garbage.excerpt).toBe('Segmentation fault');
  });

  it('never throws, whatever the text (property: arbitrary strings, and fixture prefixes)', () => {
    const fixtures = ['table_h100-mig_load.txt', 'query-gpu-allfields_h100-mig_load.csv', 'query-compute-apps_h200_load.csv'].map(readNvidiaSmiFixture);
    const texts = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('|', '+', '-', '=', ' ', '\n', '0', 'MiB', '/', 'W', 'C', '%', ',', 'N/A', '[N/A]') }),
      fc.tuple(fc.constantFrom(...fixtures), fc.nat(), fc.string()).map(([text, cut, tail]) => text.slice(0, cut % (text.length + 1)) + tail),
    );
    fc.assert(
      fc.property(texts, fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }), (stdout, exitCode) => {
        const result = readNvidiaSmi({ stdout, exitCode });
        if (!result.ok) expect(result.error).toBeInstanceOf(NvidiaSmiError);
        else expect(result.reading.gpus.length).toBeGreaterThan(0);
        const apps = readComputeApps({ ok: true, stdout, exitCode });
        if (!apps.ok) expect(apps.error).toBeInstanceOf(NvidiaSmiError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('readNvidiaSmi finds the format', () => {
  it('the CSV query and the table of the same capture agree on the figures they share', () => {
    const csv = readNvidiaSmi(captureSection(CAPTURES.h200, SECTION.queryGpu('load')));
    const table = readNvidiaSmi(captureSection(CAPTURES.h200, SECTION.table('load')));
    if (!csv.ok || !table.ok) throw new Error('both should read');
    expect(csv.reading.format).toBe('csv');
    expect(table.reading.format).toBe('table');
    const shared = ({ index, name, busId, utilizationPercent, memoryUsedMiB, memoryTotalMiB, temperatureC, powerLimitW }: (typeof csv.reading.gpus)[number]) =>
      ({ index, name, busId, utilizationPercent, memoryUsedMiB, memoryTotalMiB, temperatureC, powerLimitW });
    expect(csv.reading.gpus.map(shared)).toEqual(table.reading.gpus.map(shared));
  });

  it('keeps data read despite a non-zero exit code or stderr, as warnings (derived)', () => {
    const result = readNvidiaSmi({ stdout: readNvidiaSmiFixture('query-gpu-allfields_h200_load.csv'), stderr: 'WARNING: infoROM is corrupted at gpu 0000:83:00.0\n', exitCode: 14 });
    expect(result.ok && result.reading.warnings).toEqual(['nvidia-smi exited with code 14', 'WARNING: infoROM is corrupted at gpu 0000:83:00.0']);
  });
});

describe('readPodProbe: one pod, GPU query plus process list', () => {
  const pod = { pod: 'vlinders-ray-cluster-gpu-workers-abcde', node: 'gpu-node-1' };

  it('puts the captured processes on the GPU they run on (by uuid)', () => {
    const reading = readPodProbe({
      ...pod,
      gpus: completed(readNvidiaSmiFixture('query-gpu-allfields_h100-80gb-hbm3_load.csv')),
      processes: completed(readNvidiaSmiFixture('query-compute-apps_h100-80gb-hbm3_load.csv')),
    });
    if (!reading.ok) throw reading.error;
    expect(reading.notes).toEqual([]);
    expect(reading.reading.gpus[0]?.processes).toEqual([
      { pid: 11327, name: '/root/tools/memhog', usedMemoryMiB: 2566 },
      { pid: 11328, name: '/root/tools/memhog', usedMemoryMiB: 1542 },
      { pid: 11345, name: './gpu_burn', usedMemoryMiB: 15690 },
    ]);
  });

  it('keeps the figures when the process list fails, and says so', () => {
    const gpus = completed(readNvidiaSmiFixture('query-gpu-allfields_h200_load.csv'));
    const timedOut = readPodProbe({ ...pod, gpus, processes: { ok: false, error: 'exec timed out after 15 s', timedOut: true } });
    if (!timedOut.ok) throw timedOut.error;
    expect(timedOut.reading.gpus[0]?.processes).toBeUndefined();
    expect(timedOut.reading.gpus[0]?.memoryUsedMiB).toBe(32362);
    expect(timedOut.notes).toEqual(['Processes unknown: nvidia-smi did not answer in time (exec timed out after 15 s).']);
    const notRun = readPodProbe({ ...pod, gpus });
    expect(notRun.ok && notRun.reading.gpus[0]?.processes).toBeUndefined();
    expect(notRun.ok && notRun.notes).toEqual([]);
  });

  it('an idle process list (header only, or nothing at all) is no process', () => {
    const gpus = completed(captureSection(CAPTURES.h100, SECTION.queryGpu('idle')));
    for (const stdout of [captureSection(CAPTURES.h100, SECTION.computeApps('idle')), '']) {
      const reading = readPodProbe({ ...pod, gpus, processes: completed(stdout) });
      expect(reading.ok && reading.reading.gpus[0]?.processes).toEqual([]);
    }
  });

  it('the table brings its own processes; the CSV process list is not needed', () => {
    const reading = readPodProbe({ ...pod, gpus: completed(readNvidiaSmiFixture('table_h100-mig_load.txt')) });
    expect(reading.ok && reading.reading.gpus[0]?.processes?.map((p) => p.pid)).toEqual([21180, 21181, 21198]);
  });

  it('a failed or hung exec is a typed error for the pod', () => {
    const hung = readPodProbe({ ...pod, gpus: { ok: false, error: 'no answer within 15 s', timedOut: true } });
    expect(!hung.ok && [hung.error.kind, hung.error.message]).toEqual(['timeout', 'nvidia-smi did not answer in time (no answer within 15 s).']);
    const missing = readPodProbe({ ...pod, gpus: { ok: false, error: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nvidia-smi": executable file not found in $PATH: unknown' } });
    expect(!missing.ok && missing.error.kind).toBe('not-installed');
    const gone = readPodProbe({ ...pod, gpus: { ok: false, error: 'pods "x" not found' } });
    expect(!gone.ok && [gone.error.kind, gone.error.message]).toEqual(['exec-failed', 'Could not run nvidia-smi in the pod: pods "x" not found']);
  });

  it('says when the table is worth a try: an unknown field or an unreadable CSV, not a driver failure', () => {
    const probe = (stdout: string, exitCode = 0) => readPodProbe({ ...pod, gpus: completed(stdout, exitCode) });
    expect(shouldReadTable(probe('Field "mig.mode.current" is not a valid field to query.\n', 2))).toBe(true);
    expect(shouldReadTable(probe('something else entirely'))).toBe(true);
    expect(shouldReadTable(probe(readNvidiaSmiFixture('error_no_devices_found.txt'), 6))).toBe(false);
    expect(shouldReadTable(probe(readNvidiaSmiFixture('query-gpu-allfields_h200_load.csv')))).toBe(false);
  });
});
