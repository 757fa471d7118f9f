// The 1,000-node world the daily digest benchmarks run on: the seeded Kubernetes emulator (1,000
// nodes, 30,000 pods, 64 GPU workers) in a process of its own, so it doesn't weigh on what is
// measured. BENCH_NODES, BENCH_PODS, BENCH_GPU_WORKERS change the size.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KubeApiEmulator } from '../src/sandbox/kube/index.js';
import { startVlindersWorld } from '../src/sandbox/kube/world/index.js';

export const NODES = Number(process.env.BENCH_NODES ?? 1000);
export const PODS = Number(process.env.BENCH_PODS ?? 30000);
export const GPU_WORKERS = Number(process.env.BENCH_GPU_WORKERS ?? 64);

async function serveWorld(kubeconfigPath: string) {
  const emu = await KubeApiEmulator.start();
  const started = performance.now();
  const world = startVlindersWorld(emu, {
    gpuNodes: GPU_WORKERS,
    workers: GPU_WORKERS,
    maxWorkers: GPU_WORKERS,
    readyDelayMs: 0,
    extraCpuNodes: Math.max(0, NODES - GPU_WORKERS - 3),
    extraPods: Math.max(0, PODS - 60 - GPU_WORKERS),
    crashLoopApiPod: true,
  });
  await emu.writeKubeconfig(kubeconfigPath);
  // Let the KubeRay controller make the workers and turn them Ready.
  await new Promise((r) => setTimeout(r, 1500));
  process.stdout.write(`${JSON.stringify({ nodes: world.cluster.counts.nodes, pods: world.cluster.counts.pods, seedMs: Math.round(performance.now() - started) })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    world.stop();
    void emu.close().then(() => process.exit(0));
  });
}

export interface WorldInfo {
  nodes: number;
  pods: number;
  seedMs: number;
}

/** Starts the world in its own process, its kubeconfig written to `kubeconfigPath`; `stop` ends it. */
export async function startDigestWorld(kubeconfigPath: string): Promise<{ info: WorldInfo; stop(): Promise<void> }> {
  const server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', kubeconfigPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const info = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: server.stdout }).once('line', resolve))) as WorldInfo;
  return {
    info,
    stop: async () => {
      server.stdin.end();
      await new Promise((r) => server.once('exit', r));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'serve') await serveWorld(process.argv[3] as string);
