// The models PVC, backed by a real directory: the seeded model's files and its checksum
// manifest are written there at start, the download Job writes a new model's files there, and
// the verify Job runs the real `sha256sum -c` in the model's directory (argv only).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import type { ClusterState } from '../contract.js';
import type { JobPodView, JobRunner } from './job-runs.js';
import { pvc } from './workloads.js';

export interface ModelFilesOptions {
  /** The PVC's backing directory (default: a temp dir removed on stop). */
  dir?: string;
  /** The download Job fails the way a gated model does (401 from the hub). */
  failDownload?: boolean;
  /** The download writes a file that no longer matches its manifest line. */
  corruptDownload?: boolean;
}

export const MODELS_PVC = 'vlinders-models';
export const CHECKSUMS = 'SHA256SUMS';

/** A model's files: small, but named and shaped as a hub download is. */
function files(model: string, revision: string): Array<[string, string]> {
  return [
    ['config.json', JSON.stringify({ _name_or_path: model, revision, architectures: ['LlamaForCausalLM'], torch_dtype: 'bfloat16' }, null, 2)],
    ['tokenizer.json', JSON.stringify({ version: '1.0', model: { type: 'BPE' }, source: `${model}@${revision}` })],
    ['model-00001-of-00001.safetensors', `${model}@${revision}\n`.repeat(2048)],
  ];
}

/** Writes the model's files and a sha256sum manifest (the real sha256sum's output). */
export function writeModel(root: string, model: string, revision: string): string {
  return writeModelFiles(join(root, ...model.split('/')), model, revision);
}

function writeModelFiles(dir: string, model: string, revision: string): string {
  mkdirSync(dir, { recursive: true });
  const list = files(model, revision);
  for (const [name, content] of list) writeFileSync(join(dir, name), content);
  const sums = execFileSync('sha256sum', ['--', ...list.map(([name]) => name)], { cwd: dir, encoding: 'utf8' });
  writeFileSync(join(dir, CHECKSUMS), sums);
  return dir;
}

/** A path inside a pod, on the models PVC, as a path in the backing directory (never outside it). */
function onVolume(view: JobPodView, root: string, path: string | undefined): string | undefined {
  if (!path) return undefined;
  for (const [mount, claim] of Object.entries(view.claims)) {
    if (claim !== MODELS_PVC || (path !== mount && !path.startsWith(`${mount}/`))) continue;
    const host = resolve(root, `.${path.slice(mount.length)}`);
    const rel = relative(root, host);
    return rel.startsWith('..') || rel.includes(`..${sep}`) ? undefined : host;
  }
  return undefined;
}

export function startModelFiles(state: ClusterState, namespace: string, model: string | undefined, opts: ModelFilesOptions = {}) {
  const own = !opts.dir;
  const root = opts.dir ?? mkdtempSync(join(tmpdir(), 'vlinders-models-'));
  if (!state.get('v1', 'PersistentVolumeClaim', namespace, MODELS_PVC))
    state.create(pvc(MODELS_PVC, namespace, '500Gi', { 'app.kubernetes.io/name': 'vlinders-models', 'app.kubernetes.io/part-of': 'vlinders' }));
  if (model && readdirSync(root).length === 0) writeModel(root, model, 'main');

  const download: JobRunner = async (view) => {
    const model = view.env.MODEL_ID ?? '';
    const revision = view.env.MODEL_REVISION ?? 'main';
    const dir = onVolume(view, root, view.env.MODEL_DIR);
    if (!dir) {
      view.print(`error: MODEL_DIR ${view.env.MODEL_DIR ?? '(unset)'} is not on the models volume`);
      return 2;
    }
    if (opts.failDownload) {
      view.print(`Fetching ${model}@${revision}`);
      // huggingface_hub's debug log of the request, token and all: the bot must not pass it on.
      if (view.env.HF_TOKEN) view.print(`Request headers: {'user-agent': 'huggingface_hub/0.26.2', 'authorization': 'Bearer ${view.env.HF_TOKEN}'}`);
      view.print(`huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo for url https://huggingface.co/api/models/${model}/revision/${revision}.`);
      return 1;
    }
    const list = files(model, revision);
    view.print(`Fetching ${list.length} files of ${model}@${revision}`);
    for (const [name, content] of list) view.print(`${name}: ${Buffer.byteLength(content)}/${Buffer.byteLength(content)} bytes (12.5 MB/s)`);
    writeModelFiles(dir, model, revision);
    if (opts.corruptDownload) appendFileSync(join(dir, 'model-00001-of-00001.safetensors'), 'truncated-write');
    view.print(`Wrote ${CHECKSUMS}`);
    return 0;
  };

  const verify: JobRunner = (view) => {
    const [cmd, ...args] = [...view.command, ...view.args];
    const cwd = onVolume(view, root, view.workingDir);
    if (cmd !== 'sha256sum' || !cwd) {
      view.print(`${cmd ?? ''}: not run (only sha256sum in a directory on the models volume)`);
      return Promise.resolve(127);
    }
    return new Promise((done) => {
      execFile('sha256sum', args, { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
        for (const line of `${stdout}${stderr}`.split('\n')) if (line) view.print(line);
        const code = (err as { code?: unknown } | null)?.code;
        done(err ? (typeof code === 'number' ? code : 1) : 0);
      });
    });
  };

  const cleanup: JobRunner = async (view) => {
    const argv = [...view.command, ...view.args];
    const target = argv[0] === 'rm' && argv[1] === '-rf' && argv[2] === '--' && argv.length === 4 ? onVolume(view, root, argv[3]) : undefined;
    if (!target || target === root) {
      view.print(`rm: refusing: ${argv.join(' ')}`);
      return 1;
    }
    rmSync(target, { recursive: true, force: true });
    return 0;
  };

  return {
    dir: root,
    runners: { 'model-download': download, 'model-verify': verify, 'model-cleanup': cleanup } satisfies Record<string, JobRunner>,
    stop: () => {
      if (own) rmSync(root, { recursive: true, force: true });
    },
  };
}
