// The default `nvidia-smi` table, read without trusting column positions: widths and the
// header's border differ between drivers (550 vs 590 in the fixtures), so each value is found
// in the cell under its header label and recognised by its unit (59C, 629W / 700W, MiB, %).
import type { GpuProcess, GpuReading, MigDevice, NvidiaSmiReading } from './gpu-reading.js';
import { integerValue, isEnabled, numberValue, presentValue } from './nvidia-smi-values.js';

type Cells = string[];
/** One box of the table: its header lines and its records (lines between `-` separators). */
interface Grid {
  header: Cells[];
  records: Cells[][];
}

// Box borders: "+----+----+", "|----+----|", "|====+====|".
const isDashes = (line: string) => /^[|+][-+|]*$/.test(line) && line.includes('-');
const isEquals = (line: string) => /^[|+][=+|]*$/.test(line) && line.includes('=');
const cellsOf = (line: string): Cells => line.replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());

function gridOf(lines: readonly string[]): Grid | undefined {
  const boxLines = lines.filter((l) => l.startsWith('|') || l.startsWith('+'));
  const equalsAt = boxLines.findIndex(isEquals);
  if (equalsAt < 0) return undefined;
  let headerFrom = equalsAt;
  while (headerFrom > 0 && !isDashes(boxLines[headerFrom - 1] ?? '')) headerFrom--;
  const grid: Grid = { header: boxLines.slice(headerFrom, equalsAt).map(cellsOf), records: [] };
  let record: Cells[] = [];
  for (const line of boxLines.slice(equalsAt + 1)) {
    if (!isDashes(line)) {
      record.push(cellsOf(line));
      continue;
    }
    if (record.length > 0) grid.records.push(record);
    record = [];
  }
  if (record.length > 0) grid.records.push(record);
  return grid;
}

/**
 * The record's cell under a header label: on the label's own header line when filled there,
 * else the first filled line of that column (the MIG block's 3-line header has 1-line values).
 */
function under(grid: Grid, record: Cells[], label: string): string | undefined {
  for (const [i, line] of grid.header.entries()) {
    const j = line.findIndex((cell) => cell.includes(label));
    if (j < 0) continue;
    const own = record[i]?.[j];
    return own ? own : record.map((r) => r[j]).find(Boolean);
  }
  return undefined;
}

// Values are read token by token: no regex scans a cell, so a runaway line costs linear time.
const tokensOf = (cell: string | undefined) => (cell ?? '').split(/\s+/).filter(Boolean);
const firstToken = (cell: string | undefined) => tokensOf(cell)[0];

/** The two sides of "a / b" (`629W /  700W`, `19818MiB /  81559MiB`); "N/A" holds a slash of its own. */
function slashPair(cell: string | undefined): [string | undefined, string | undefined] {
  const tokens = tokensOf(cell);
  const at = tokens.lastIndexOf('/');
  return at < 0 ? [undefined, undefined] : [tokens[at - 1], tokens[at + 1]];
}

function usage(cell: string | undefined): { used?: number; total?: number } {
  const [used, total] = slashPair(cell).map((t) => (t?.endsWith('MiB') ? numberValue(t) : undefined));
  return { used, total };
}

const PERSISTENCE_MODES = new Set(['On', 'Off', 'TCC', 'WDDM']);

function gpuOf(grid: Grid, record: Cells[]): GpuReading | undefined {
  // "0  NVIDIA H100 80GB HBM3          On": index, name, then the persistence (or Windows driver) mode.
  const id = tokensOf(under(grid, record, 'Name'));
  const index = integerValue(id[0]);
  if (index === undefined) return undefined;
  const name = id.slice(1, PERSISTENCE_MODES.has(id[id.length - 1] ?? '') ? -1 : undefined).join(' ');
  const [powerDraw, powerLimit] = slashPair(under(grid, record, 'Pwr:Usage/Cap'));
  const memory = usage(under(grid, record, 'Memory-Usage'));
  return {
    index,
    name: name || `GPU ${index}`,
    busId: presentValue(firstToken(under(grid, record, 'Bus-Id'))),
    utilizationPercent: numberValue(firstToken(under(grid, record, 'GPU-Util'))),
    memoryUsedMiB: memory.used,
    memoryTotalMiB: memory.total,
    temperatureC: numberValue(tokensOf(under(grid, record, 'Temp')).find((t) => /^-?\d+C$/.test(t))),
    powerDrawW: numberValue(powerDraw),
    powerLimitW: numberValue(powerLimit),
    // A MIG-enabled GPU shows "On" here; its counts are per MIG device.
    eccUncorrected: integerValue(under(grid, record, 'Uncorr. ECC')),
    migEnabled: isEnabled(under(grid, record, 'MIG M.')),
    migDevices: [],
  };
}

function migDeviceOf(grid: Grid, record: Cells[]): (MigDevice & { gpu: number }) | undefined {
  const ids = /^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(under(grid, record, 'GI') ?? '');
  if (!ids) return undefined;
  const memory = usage(under(grid, record, 'Memory-Usage'));
  const [sm, ecc] = (under(grid, record, 'SM') ?? '').split(/\s+/);
  return {
    gpu: Number(ids[1]),
    gpuInstanceId: Number(ids[2]),
    computeInstanceId: Number(ids[3]),
    index: Number(ids[4]),
    memoryUsedMiB: memory.used,
    memoryTotalMiB: memory.total,
    smCount: integerValue(sm),
    eccUncorrected: integerValue(ecc),
  };
}

const PROCESS_TYPES = new Set(['C', 'G', 'C+G', 'M', 'M+C']);
const isId = (token: string | undefined) => token === 'N/A' || /^\d+$/.test(token ?? '');

/** "0   N/A  N/A   11327   C   /root/tools/memhog   2566MiB"; drivers before MIG have no GI/CI columns. */
function processOf(row: string): (GpuProcess & { gpu: number }) | undefined {
  const tokens = tokensOf(row);
  const typeAt = [4, 2].find((at) => PROCESS_TYPES.has(tokens[at] ?? '') && tokens.slice(0, at).every(isId));
  const memory = tokens[tokens.length - 1];
  if (typeAt === undefined || tokens.length < typeAt + 3 || !(memory === 'N/A' || /^\d+MiB$/.test(memory ?? ''))) return undefined;
  const pid = integerValue(tokens[typeAt - 1]);
  if (pid === undefined) return undefined;
  const mig = typeAt === 4;
  return {
    gpu: Number(tokens[0]),
    gpuInstanceId: mig ? integerValue(tokens[1]) : undefined,
    computeInstanceId: mig ? integerValue(tokens[2]) : undefined,
    pid,
    type: tokens[typeAt],
    name: tokens.slice(typeAt + 1, -1).join(' '),
    usedMemoryMiB: numberValue(memory),
  };
}

/** Splits the text at the titles of the MIG and Processes boxes: [gpus, mig?, processes?]. */
function sectionsOf(lines: readonly string[]): { gpus: string[]; mig?: string[]; processes?: string[] } {
  const titleAt = (title: RegExp) => lines.findIndex((l) => title.test(l));
  const migAt = titleAt(/^\|\s*MIG devices:/);
  const processesAt = titleAt(/^\|\s*Processes:/);
  const ends = [migAt, processesAt, lines.length].filter((i) => i >= 0);
  const slice = (from: number) => (from < 0 ? undefined : lines.slice(from, Math.min(...ends.filter((e) => e > from))));
  return { gpus: lines.slice(0, Math.min(...ends)), mig: slice(migAt), processes: slice(processesAt) };
}

/** The default table, or undefined when the text has no GPU box. */
export function readNvidiaSmiTable(text: string): NvidiaSmiReading | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const sections = sectionsOf(lines);
  const gpuGrid = gridOf(sections.gpus);
  if (!gpuGrid?.header.some((line) => line.some((cell) => cell.includes('Bus-Id')))) return undefined;

  const warnings: string[] = [];
  const gpus: GpuReading[] = [];
  for (const record of gpuGrid.records) {
    const gpu = gpuOf(gpuGrid, record);
    if (gpu) gpus.push(gpu);
    else warnings.push(record.map((cells) => cells.join(' | ')).join(' / '));
  }
  if (gpus.length === 0) return undefined;

  const migGrid = sections.mig && gridOf(sections.mig);
  for (const record of migGrid?.records ?? []) {
    const device = migGrid && migDeviceOf(migGrid, record);
    const gpu = device && gpus.find((g) => g.index === device.gpu);
    if (!device || !gpu) continue;
    const { gpu: _gpu, ...mig } = device;
    gpu.migDevices.push(mig);
    gpu.migEnabled = true;
  }
  for (const gpu of gpus.filter((g) => g.migDevices.length > 0 && g.eccUncorrected === undefined)) {
    const counts = gpu.migDevices.map((d) => d.eccUncorrected).filter((n): n is number => n !== undefined);
    if (counts.length > 0) gpu.eccUncorrected = counts.reduce((a, b) => a + b, 0);
  }

  const processGrid = sections.processes && gridOf(sections.processes);
  if (processGrid) {
    const processes: Array<GpuProcess & { gpu: number }> = [];
    for (const row of processGrid.records.flat().map((cells) => cells.join(' ').trim())) {
      const process = processOf(row);
      if (process) processes.push(process);
      else if (row && !/no running processes found/i.test(row)) warnings.push(row);
    }
    for (const gpu of gpus) gpu.processes = processes.filter((p) => p.gpu === gpu.index).map(({ gpu: _gpu, ...p }) => p);
  }

  return {
    format: 'table',
    driverVersion: /Driver Version:\s*(\S+)/.exec(text)?.[1],
    cudaVersion: /CUDA Version:\s*(\S+)/.exec(text)?.[1],
    gpus,
    warnings,
  };
}
