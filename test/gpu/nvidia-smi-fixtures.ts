// Access to test/fixtures/captured/nvidia-smi for the gpu tests, and the derivations tests make
// from it (the fixtures themselves are never edited).
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { readCaptured, capturedPath } from '../fixtures/captured.js';

export const NVIDIA_SMI_DIR = 'nvidia-smi/';

export const readNvidiaSmiFixture = (name: string) => readCaptured(`${NVIDIA_SMI_DIR}${name}`);

/** Every fixture file, relative to the nvidia-smi folder ("captures/x.txt", "table_y.txt"). */
export function nvidiaSmiFixtureFiles(): string[] {
  const dir = capturedPath(NVIDIA_SMI_DIR);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(dir, name)).isFile())
    .map((name) => name.split(sep).join('/'))
    .sort();
}

/**
 * The sections of an nvidia_gpu_exporter capture, by title ("load :: query-gpu (csv, what the
 * exporter parses)"). Each section is a banner — a line of 80 '#', "# <phase> :: <title>",
 * "# $ <command>" lines, a line of 80 '#' — then the command's output up to the next banner.
 */
export function captureSections(text: string): Map<string, string> {
  const banner = /^#{80}\n# (\S+ :: [^\n]+)\n(?:#[^\n]*\n)*?#{80}\n/gm;
  const sections = new Map<string, string>();
  const found = [...text.matchAll(banner)];
  for (const [i, m] of found.entries()) {
    const start = m.index + m[0].length;
    const end = found[i + 1]?.index ?? text.length;
    sections.set(m[1] ?? '', text.slice(start, end).replace(/\n+$/, '\n'));
  }
  return sections;
}

export function captureSection(file: string, title: string): string {
  const section = captureSections(readNvidiaSmiFixture(`captures/${file}`)).get(title);
  if (section === undefined) throw new Error(`no section "${title}" in ${file}`);
  return section;
}

export const CAPTURES = {
  h100: 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt',
  mig: 'linux-x86_64__nvidia-h100-mig__590.48.01.txt',
  h200: 'linux-x86_64__nvidia-h200__590.48.01.txt',
} as const;

export const SECTION = {
  table: (phase: 'idle' | 'load') => `${phase} :: nvidia-smi (default table)`,
  queryGpu: (phase: 'idle' | 'load') => `${phase} :: query-gpu (csv, what the exporter parses)`,
  computeApps: (phase: 'idle' | 'load') => `${phase} :: query-compute-apps (per-process)`,
  helpQueryGpu: 'capabilities :: help-query-gpu',
  helpQueryComputeApps: 'capabilities :: help-query-compute-apps',
  help: 'capabilities :: help (-h)',
} as const;

/**
 * A derived variant of `--format=csv` output: the value under `field` (its name without the
 * unit) in data row `row` replaced. Throws if the field is not there, so a test can't
 * silently edit nothing.
 */
export function withCsvValue(csv: string, field: string, value: string, row = 0): string {
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').split(', ').map((h) => h.replace(/ \[[^\]]+\]$/, ''));
  const column = header.indexOf(field);
  const line = lines[row + 1];
  if (column < 0 || line === undefined) throw new Error(`no ${field} in row ${row}`);
  const cells = line.split(', ');
  cells[column] = value;
  lines[row + 1] = cells.join(', ');
  return lines.join('\n');
}

/**
 * A derived variant: the columns of a captured all-fields `--query-gpu` CSV that a narrower
 * query asks for, in its order (what nvidia-smi prints for that query). `names` maps a
 * queried field to the name the capture's header uses, where they differ.
 */
export function projectCsv(csv: string, fields: readonly string[], names: Readonly<Record<string, string>> = {}): string {
  const [headerLine = '', ...rows] = csv.split('\n').filter(Boolean);
  const header = headerLine.split(', ');
  const columns = fields.map((f) => {
    const wanted = names[f] ?? f;
    const at = header.findIndex((h) => h.replace(/ \[[^\]]+\]$/, '') === wanted);
    if (at < 0) throw new Error(`no ${wanted} in the capture`);
    return at;
  });
  const pick = (line: string) => {
    const cells = line.split(', ');
    return columns.map((at) => cells[at] ?? '').join(', ');
  };
  return [pick(headerLine), ...rows.map(pick)].join('\n') + '\n';
}
