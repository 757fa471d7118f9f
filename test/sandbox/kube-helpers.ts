// Shared bits of the kube emulator tests: small seed objects and the real kubectl.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import type { KubeApiEmulator, KubeObject } from '../../src/sandbox/kube/index.js';
import { KUBECTL, ensureTools } from '../tools/extract-tools.js';

/** Polls `probe` until it gives something truthy (returned), failing by name after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}

export function node(name: string, opts: { ready?: boolean; gpus?: number; roles?: string[] } = {}): KubeObject {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' };
  for (const r of opts.roles ?? []) labels[`node-role.kubernetes.io/${r}`] = '';
  if (opts.gpus) labels['nvidia.com/gpu.present'] = 'true';
  const capacity: Record<string, string> = { cpu: '32', memory: '256Gi', pods: '110', ...(opts.gpus ? { 'nvidia.com/gpu': String(opts.gpus) } : {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'KubeletReady' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.10' }],
      nodeInfo: { kubeletVersion: 'v1.34.2', osImage: 'Ubuntu 24.04.1 LTS', kernelVersion: '6.8.0-49-generic', containerRuntimeVersion: 'containerd://2.0.0' },
    },
  };
}

type PodState = 'running' | 'crashloop' | 'pending' | 'completed';

export function pod(ns: string, name: string, opts: { state?: PodState; labels?: Record<string, string>; containers?: string[]; node?: string; restarts?: number } = {}): KubeObject {
  const state = opts.state ?? 'running';
  const containers = opts.containers ?? ['main'];
  const containerState =
    state === 'running'
      ? { running: { startedAt: ago(3600) } }
      : state === 'crashloop'
        ? { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } }
        : state === 'completed'
          ? { terminated: { exitCode: 0, reason: 'Completed', finishedAt: ago(60) } }
          : { waiting: { reason: 'ContainerCreating' } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: opts.labels ?? { app: name } },
    spec: {
      ...(state === 'pending' ? {} : { nodeName: opts.node ?? 'node-a' }),
      containers: containers.map((c) => ({ name: c, image: 'busybox:1.36', ports: [{ containerPort: 8080, name: 'http' }] })),
    },
    status: {
      phase: state === 'running' || state === 'crashloop' ? 'Running' : state === 'completed' ? 'Succeeded' : 'Pending',
      ...(state === 'pending'
        ? { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' }] }
        : { podIP: '10.244.0.7', containerStatuses: containers.map((c) => ({ name: c, ready: state === 'running', restartCount: opts.restarts ?? (state === 'crashloop' ? 7 : 0), state: containerState, ...(state === 'crashloop' ? { lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(120) } } } : {}) })) }),
    },
  };
}

export function rayCluster(ns: string, name: string, replicas = 3): KubeObject {
  return {
    apiVersion: 'ray.io/v1',
    kind: 'RayCluster',
    metadata: { name, namespace: ns },
    spec: {
      headGroupSpec: { rayStartParams: {}, template: { spec: { containers: [{ name: 'ray-head', image: 'rayproject/ray:2.41.0' }] } } },
      workerGroupSpecs: [{ groupName: 'gpu-workers', replicas, minReplicas: 1, maxReplicas: 8, rayStartParams: {}, template: { spec: { containers: [{ name: 'ray-worker', image: 'rayproject/ray:2.41.0', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } } }],
    },
    status: { state: 'ready', desiredWorkerReplicas: replicas, availableWorkerReplicas: replicas, desiredCPU: '9', desiredMemory: '36G', desiredGPU: String(replicas) },
  };
}

/** Writes a kubeconfig for the emulator and runs the real kubectl with argv only. */
export class Kubectl {
  private constructor(
    /** A temp dir (HOME and cache for kubectl), removed by cleanup(). */
    readonly dir: string,
    private readonly kubeconfig: string,
  ) {}

  /** `kubeconfig` overrides the emulator's own (e.g. to present a wrong token). */
  static async for(emu: KubeApiEmulator, opts: { kubeconfig?: string } = {}): Promise<Kubectl> {
    await ensureTools();
    const dir = await mkdtemp(join(tmpdir(), 'kubectl-'));
    const kubeconfig = join(dir, 'kubeconfig');
    if (opts.kubeconfig) await writeFile(kubeconfig, opts.kubeconfig, { mode: 0o600 });
    else await emu.writeKubeconfig(kubeconfig);
    return new Kubectl(dir, kubeconfig);
  }

  run(args: string[], opts: { input?: string; timeout?: number } = {}): Promise<Result> {
    return execa(KUBECTL, ['--kubeconfig', this.kubeconfig, '--cache-dir', join(this.dir, 'cache'), ...args], {
      reject: false,
      timeout: opts.timeout ?? 15_000,
      env: { HOME: this.dir, KUBECTL_KUBERC: 'false' },
      extendEnv: false,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    });
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
