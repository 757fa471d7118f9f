// `status` on an emulated cluster of 1,000 nodes and 30,000 pods, against the real kubectl
// fetching the pods and nodes (`get pods -A -o json` plus `get nodes -o json`) from the same
// emulator. status does more than that peer: it also reads the namespaces' workloads, PVCs and
// the RayCluster, and judges all of it; kubectl only fetches and prints. So "no slower than
// kubectl" is a bound with room in kubectl's favour, not a like-for-like race. Wall time and peak RSS come from /usr/bin/time for both; status's peak heap from
// a sampler. Goals: no slower than kubectl, heap < 256 MB.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KUBECTL, ensureTools } from '../test/tools/extract-tools.js';
import { botArgv, ensureBuilt, timed } from './bot-process.js';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 30000);
const root = new URL('..', import.meta.url).pathname;

export async function statusScale(): Promise<void> {
  await ensureBuilt();
  await ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/cluster-server.ts'), String(NODES), String(PODS), kubeconfig], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve) => createInterface({ input: server.stdout }).once('line', resolve));
  const info = JSON.parse(first) as { nodes: number; pods: number; seedMs: number };
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `clusters:\n  - name: bench\n    kubeconfig: ${kubeconfig}\ncli:\n  role: viewer\nlog:\n  level: silent\n`);
  try {
    const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
    const rows: Array<{ what: string; wallS: number; rssMB: number; heapMB?: number }> = [];
    for (let r = 0; r < rounds; r++) {
      const ours = await timed([...botArgv(), 'status', '--json'], { VLINDERS_OPS_CONFIG: config });
      rows.push({ what: 'vlinders-ops status', ...ours });
      // The same with V8's old space capped: it only completes if memory really stays flat.
      const capped = await timed([...botArgv({ heapMB: 128 }), 'status', '--json'], { VLINDERS_OPS_CONFIG: config });
      rows.push({ what: 'vlinders-ops status, old space capped at 128 MB', ...capped });
      const pods = await timed([KUBECTL, '--kubeconfig', kubeconfig, 'get', 'pods', '-A', '-o', 'json']);
      const nodes = await timed([KUBECTL, '--kubeconfig', kubeconfig, 'get', 'nodes', '-o', 'json']);
      rows.push({ what: 'kubectl get pods -A + nodes (fetch only)', wallS: pods.wallS + nodes.wallS, rssMB: Math.max(pods.rssMB, nodes.rssMB) });
    }
    console.log(`status at scale: ${info.nodes} nodes, ${info.pods} pods (seeded in ${info.seedMs} ms, emulator in its own process); ${cpus().length} cores, node ${process.version}`);
    console.log('(status reads more than kubectl here, workloads, PVCs and the RayCluster too, and judges them; kubectl only fetches pods and nodes)');
    console.log('what                                              wall s   peak RSS MB   peak heap MB');
    for (const r of rows) console.log(`${r.what.padEnd(48)} ${r.wallS.toFixed(2).padStart(7)} ${r.rssMB.toFixed(0).padStart(13)} ${r.heapMB === undefined ? '             -' : r.heapMB.toFixed(0).padStart(14)}`);
  } finally {
    server.stdin.end();
    await new Promise((r) => server.once('exit', r));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await statusScale();
