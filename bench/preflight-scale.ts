// preflight and verify's health on an emulated cluster of 1,000 nodes and 30,000 pods (the
// emulator in its own process), through the CLI as an operator would run them. The GPU-node item
// pages every pod and verify's health surveys the whole cluster: wall time, peak RSS and peak
// heap, also with V8's old space capped at 128 MB (it only completes if memory stays flat).
// Redis, Qdrant and PostgreSQL are not there: those items fail fast, as they would.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { botArgv, ensureBuilt, timed } from './bot-process.js';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 30000);
const root = new URL('..', import.meta.url).pathname;

export async function preflightScale(): Promise<void> {
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/cluster-server.ts'), String(NODES), String(PODS), kubeconfig, 'world'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve) => createInterface({ input: server.stdout }).once('line', resolve));
  const info = JSON.parse(first) as { nodes: number; pods: number };
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `clusters:\n  - name: bench\n    kubeconfig: ${kubeconfig}\ncli:\n  role: operator\nplatform:\n  redis: 127.0.0.1:9\n  qdrantUrl: http://127.0.0.1:9\n  timeoutSeconds: 60\nlog:\n  level: silent\n`);
  const node = (cap?: number) => botArgv({ heapMB: cap ?? null });
  try {
    const rows: Array<{ what: string; wallS: number; rssMB: number; heapMB?: number }> = [];
    for (const [what, args] of [['preflight', ['preflight', '--json']], ['verify --phase 1', ['verify', '--phase', '1', '--json']]] as const) {
      rows.push({ what: `vlinders-ops ${what}`, ...(await timed([...node(), ...args], { VLINDERS_OPS_CONFIG: config })) });
      rows.push({ what: `vlinders-ops ${what}, old space 128 MB`, ...(await timed([...node(128), ...args], { VLINDERS_OPS_CONFIG: config })) });
    }
    console.log(`preflight at scale: ${info.nodes} nodes, ${info.pods} pods; ${cpus().length} cores, node ${process.version}`);
    console.log('what                                              wall s   peak RSS MB   peak heap MB');
    for (const r of rows) console.log(`${r.what.padEnd(48)} ${r.wallS.toFixed(2).padStart(7)} ${r.rssMB.toFixed(0).padStart(13)} ${r.heapMB === undefined ? '             -' : r.heapMB.toFixed(0).padStart(14)}`);
  } finally {
    server.stdin.end();
    await new Promise((r) => server.once('exit', r));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await preflightScale();
