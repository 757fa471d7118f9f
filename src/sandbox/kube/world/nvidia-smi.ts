// nvidia-smi, played back from real captures (test/fixtures/captured/nvidia-smi): the default table,
// `--query-gpu` / `--query-compute-apps` with the requested columns picked by header name from
// the all-fields CSVs (aliases and valid fields read off the capture's own --help-query-*),
// other commands the capture recorded (-L, -q, --version, topo -m, ...), and the error texts.
import { readFixture } from './fixtures.js';
import type { CaptureName } from './nodes.js';

export type NvidiaSmiError = 'no-devices' | 'driver-mismatch' | 'no-driver';

export interface SmiResult {
  stdout: string;
  stderr: string;
  code: number;
}

const FILES: Record<CaptureName, { stem: string; capture: string }> = {
  h100: { stem: 'h100-80gb-hbm3', capture: 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt' },
  h200: { stem: 'h200', capture: 'linux-x86_64__nvidia-h200__590.48.01.txt' },
  mig: { stem: 'h100-mig', capture: 'linux-x86_64__nvidia-h100-mig__590.48.01.txt' },
};

// The texts as quoted in public issues, and nvidia-smi's exit codes for them (NVML return codes:
// NOT_FOUND 6, DRIVER_NOT_LOADED 9, LIB_RM_VERSION_MISMATCH 18). It prints them on stdout.
const ERRORS: Record<NvidiaSmiError, { file: string; code: number }> = {
  'no-devices': { file: 'error_no_devices_found.txt', code: 6 },
  'no-driver': { file: 'error_failed_to_communicate_with_driver.txt', code: 9 },
  'driver-mismatch': { file: 'error_driver_library_version_mismatch.txt', code: 18 },
};

const INVALID = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

export function nvidiaSmiError(kind: NvidiaSmiError): SmiResult {
  const { file, code } = ERRORS[kind];
  // The quotes carry the reporter's prompt ("$ nvidia-smi", "# nvidia-smi") and banners: not output.
  const lines = readFixture(`nvidia-smi/${file}`).split('\n').filter((l) => l.trim() && !/^[$#] /.test(l) && !/^\*+.*\*+$/.test(l));
  return { stdout: `${lines.join('\n')}\n`, stderr: '', code };
}

const bar = (l: string | undefined): boolean => l !== undefined && /^#{40,}$/.test(l);
const norm = (cmd: string): string => cmd.trim().split(/\s+/).join(' ');

/** A capture's sections by phase and command: 'load nvidia-smi -q', 'capabilities nvidia-smi -L', ... */
const sectionCache = new Map<CaptureName, Map<string, string>>();
function sections(capture: CaptureName): Map<string, string> {
  let map = sectionCache.get(capture);
  if (map) return map;
  map = new Map();
  const lines = readFixture(`nvidia-smi/captures/${FILES[capture].capture}`).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const title = /^# (\w+) :: /.exec(lines[i] ?? '');
    const cmd = /^# \$ (.*)$/.exec(lines[i + 1] ?? '');
    if (!bar(lines[i - 1]) || !title || !cmd || !bar(lines[i + 2])) continue;
    let end = i + 3;
    while (end < lines.length && !bar(lines[end])) end++;
    const body = lines.slice(i + 3, end);
    while (body.length && body.at(-1) === '') body.pop();
    map.set(`${title[1]} ${norm(cmd[1] ?? '')}`, `${body.join('\n')}\n`);
    i = end - 1;
  }
  sectionCache.set(capture, map);
  return map;
}

/** Valid fields of a --query-* switch and their aliases, from the capture's --help-query-* text. */
function fieldNames(capture: CaptureName, help: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of (sections(capture).get(`capabilities nvidia-smi ${help}`) ?? '').split('\n')) {
    if (!/^"[^"]+"( or "[^"]+")*$/.test(line)) continue;
    const [canonical, ...aliases] = [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
    for (const n of [canonical as string, ...aliases]) names.set(n, canonical as string);
  }
  return names;
}

const unitless = (header: string): string => header.replace(/ \[[^\]]*\]$/, '');

/** `--query-*=a,b --format=csv[,noheader][,nounits]` over a CSV that has every field. */
function query(csv: string, fields: string[], format: Set<string>, valid: Map<string, string>): SmiResult {
  const [head = '', ...rows] = csv.split('\n').filter((l) => l !== '');
  const headers = head.split(', ');
  const columns: number[] = [];
  for (const f of fields) {
    const canonical = valid.get(f);
    const at = headers.findIndex((h) => unitless(h) === canonical);
    if (canonical === undefined || at < 0) return { stdout: `Field "${f}" is not a valid field to query.\n\n`, stderr: '', code: 2 };
    columns.push(at);
  }
  const noUnits = format.has('nounits');
  const pick = (cells: string[], isHeader: boolean): string =>
    columns
      .map((c) => {
        const cell = cells[c] ?? '';
        if (!noUnits) return cell;
        // nounits drops "[MiB]" from headers and the unit after numbers ("19818 MiB" → "19818").
        return isHeader ? unitless(cell) : /^[-\d.]+ \S+$/.test(cell) && /\[.*\]$/.test(headers[c] ?? '') ? (cell.split(' ')[0] ?? '') : cell;
      })
      .join(', ');
  const out = [...(format.has('noheader') ? [] : [pick(headers, true)]), ...rows.map((r) => pick(r.split(', '), false))];
  return { stdout: out.map((l) => `${l}\n`).join(''), stderr: '', code: 0 };
}

/** Runs `nvidia-smi <args>` on a machine that produced the given capture. */
export function nvidiaSmi(args: readonly string[], capture: CaptureName): SmiResult {
  const stem = FILES[capture].stem;
  if (args.length === 0) return { stdout: readFixture(`nvidia-smi/table_${stem}_load.txt`), stderr: '', code: 0 };
  const opts = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^(--query-gpu|--query-compute-apps|--format|-i|--id)(?:=(.*))?$/.exec(args[i] as string);
    if (!m) rest.push(args[i] as string);
    else opts.set(m[1] === '--id' ? '-i' : (m[1] as string), m[2] ?? args[++i] ?? '');
  }
  const kind = opts.has('--query-gpu') ? 'gpu' : opts.has('--query-compute-apps') ? 'compute-apps' : undefined;
  if (kind) {
    const format = new Set((opts.get('--format') ?? '').split(',').map((s) => s.trim()));
    // A single GPU in every capture: only index 0 exists.
    if (opts.has('-i') && opts.get('-i') !== '0') return { stdout: 'No devices were found\n', stderr: '', code: 6 };
    if (!format.has('csv') || rest.length) return { stdout: INVALID, stderr: '', code: 2 };
    const fields = (opts.get(`--query-${kind}`) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const csv = readFixture(`nvidia-smi/query-${kind === 'gpu' ? 'gpu-allfields' : 'compute-apps'}_${stem}_load.csv`);
    return query(csv, fields, format, fieldNames(capture, `--help-query-${kind}`));
  }
  const cmd = norm(`nvidia-smi ${args.join(' ')}`);
  const recorded = sections(capture).get(`load ${cmd}`) ?? sections(capture).get(`capabilities ${cmd}`);
  return recorded !== undefined ? { stdout: recorded, stderr: '', code: 0 } : { stdout: INVALID, stderr: '', code: 2 };
}
