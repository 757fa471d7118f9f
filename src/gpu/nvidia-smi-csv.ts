// `--format=csv` output of --query-gpu and --query-compute-apps, read by header name.
// With a header, columns are found by name whatever their order or units
// (`memory.used [MiB]`); without one (`csv,noheader[,nounits]`) the caller names them.
import type { GpuProcess, GpuReading } from './gpu-reading.js';
import { COMPUTE_APPS_FIELDS, COMPUTE_APPS_FIELD_ALIASES, GPU_FIELD_ALIASES, GPU_QUERY_FIELDS } from './nvidia-smi-commands.js';
import { clockEventReasons, integerValue, isEnabled, numberValue, presentValue } from './nvidia-smi-values.js';

type Aliases = Readonly<Record<string, string>>;

interface CsvRows {
  rows: Array<ReadonlyMap<string, string>>;
  /** Non-blank lines that are neither the header nor a row (warnings nvidia-smi mixed in). */
  stray: string[];
  hadHeader: boolean;
}

// A header cell is a field name with an optional unit: `utilization.gpu [%]`.
const HEADER_CELL = /^[A-Za-z_][\w.]*(?: \[[^\]]+\])?$/;

function fieldName(cell: string, aliases: Aliases): string {
  const name = cell.replace(/\s*\[[^\]]*\]$/, '').trim();
  return aliases[name] ?? name;
}

// nvidia-smi separates with ", " and never quotes; its values hold no commas.
const cellsOf = (line: string) => line.split(',').map((c) => c.trim());

/** Which query a header belongs to: it names fields, and `accepts` recognises them. */
interface QueryShape {
  aliases: Aliases;
  accepts: (fields: ReadonlySet<string>) => boolean;
}

function isHeader(cells: string[], shape: QueryShape): boolean {
  return cells.every((c) => HEADER_CELL.test(c)) && shape.accepts(new Set(cells.map((c) => fieldName(c, shape.aliases))));
}

/** Rows keyed by field name, or undefined when the text holds no row and no header. */
function readRows(text: string, shape: QueryShape, fields?: readonly string[]): CsvRows | undefined {
  const { aliases } = shape;
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const headerAt = lines.findIndex((l) => isHeader(cellsOf(l), shape));
  const header = headerAt >= 0 ? cellsOf(lines[headerAt] ?? '') : fields;
  if (!header) return undefined;
  const columns = header.map((c) => fieldName(c, aliases));
  const out: CsvRows = { rows: [], stray: lines.slice(0, Math.max(headerAt, 0)), hadHeader: headerAt >= 0 };
  for (const line of lines.slice(headerAt + 1)) {
    const cells = cellsOf(line);
    if (cells.length === columns.length) out.rows.push(new Map(columns.map((c, i) => [c, cells[i] ?? ''])));
    else out.stray.push(line);
  }
  return out.hadHeader || out.rows.length > 0 ? out : undefined;
}

// A GPU header names one of our fields; a process header (which also has gpu_uuid) has a pid.
const GPU_QUERY: QueryShape = {
  aliases: GPU_FIELD_ALIASES,
  accepts: (fields) => !fields.has('pid') && GPU_QUERY_FIELDS.some((f) => fields.has(f)),
};

export interface GpuCsv {
  gpus: GpuReading[];
  driverVersion?: string;
  warnings: string[];
}

/**
 * `--query-gpu=... --format=csv[,noheader][,nounits]`. `fields` names the columns when there is
 * no header (default: GPU_QUERY_FIELDS, what NVIDIA_SMI_GPU_QUERY asks for). Undefined when the
 * text holds no GPU row.
 */
export function readGpuQueryCsv(text: string, fields: readonly string[] = GPU_QUERY_FIELDS): GpuCsv | undefined {
  const csv = readRows(text, GPU_QUERY, fields);
  if (!csv) return undefined;
  const rows = csv.rows.filter((row) => {
    // A row of the right width is still no GPU unless it says which GPU it is.
    const identified = integerValue(row.get('index')) !== undefined || /^GPU-/.test(row.get('uuid') ?? '') || numberValue(row.get('memory.total')) !== undefined;
    if (!identified) csv.stray.push([...row.values()].join(', '));
    return identified;
  });
  if (rows.length === 0) return undefined;
  const gpus = rows.map((row, ordinal): GpuReading => {
    const index = integerValue(row.get('index')) ?? ordinal;
    return {
      index,
      name: presentValue(row.get('name')) ?? `GPU ${index}`,
      uuid: presentValue(row.get('uuid')),
      busId: presentValue(row.get('pci.bus_id')),
      utilizationPercent: numberValue(row.get('utilization.gpu')),
      memoryUsedMiB: numberValue(row.get('memory.used')),
      memoryTotalMiB: numberValue(row.get('memory.total')),
      temperatureC: numberValue(row.get('temperature.gpu')),
      powerDrawW: numberValue(row.get('power.draw')),
      powerLimitW: numberValue(row.get('power.limit')),
      eccUncorrected: integerValue(row.get('ecc.errors.uncorrected.volatile.total')),
      migEnabled: isEnabled(row.get('mig.mode.current')),
      clockEventReasons: clockEventReasons(row.get('clocks_throttle_reasons.active')),
      migDevices: [],
    };
  });
  const driverVersion = presentValue(rows[0]?.get('driver_version'));
  return { gpus, driverVersion, warnings: csv.stray };
}

/** A process from --query-compute-apps, with the GPU it runs on. */
export interface ComputeApp extends GpuProcess {
  gpuUuid?: string;
  gpuBusId?: string;
}

const COMPUTE_APPS_QUERY: QueryShape = { aliases: COMPUTE_APPS_FIELD_ALIASES, accepts: (fields) => fields.has('pid') };

/**
 * `--query-compute-apps=... --format=csv[,noheader][,nounits]`. A header alone means no process.
 * Undefined when the text is not that output.
 */
export function readComputeAppsCsv(text: string, fields: readonly string[] = COMPUTE_APPS_FIELDS): { apps: ComputeApp[]; warnings: string[] } | undefined {
  const csv = readRows(text, COMPUTE_APPS_QUERY, fields);
  if (!csv) return undefined;
  const apps: ComputeApp[] = [];
  for (const row of csv.rows) {
    const pid = integerValue(row.get('pid'));
    if (pid === undefined) {
      csv.stray.push([...row.values()].join(', '));
      continue;
    }
    apps.push({
      pid,
      name: presentValue(row.get('process_name')) ?? '?',
      usedMemoryMiB: numberValue(row.get('used_gpu_memory')),
      gpuUuid: presentValue(row.get('gpu_uuid')),
      gpuBusId: presentValue(row.get('gpu_bus_id')),
    });
  }
  // No header and no row with a pid: this was not compute-apps output.
  if (!csv.hadHeader && apps.length === 0) return undefined;
  return { apps, warnings: csv.stray };
}
