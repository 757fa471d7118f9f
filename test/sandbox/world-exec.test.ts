// The world's per-pod exec handler: nvidia-smi in GPU worker pods prints the real capture of
// the node's GPU model (test/fixtures/captured/nvidia-smi), picks --query-* columns by header name,
// and can be made slow, hang until the client leaves, or fail with the real error texts.
import { PassThrough } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { type GpuExecRule, type SeedOptions, type SeededCluster, seedVlindersCluster, vlindersExec } from '../../src/sandbox/kube/world/index.js';
import { readCaptured } from '../fixtures/captured.js';

const NS = 'vlinders-inference';
let emu: KubeApiEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function world(seed: SeedOptions = {}, rules: GpuExecRule[] = []) {
  emu = await KubeApiEmulator.start({ tls: false });
  const seeded = seedVlindersCluster(emu, seed);
  return { e: emu, seeded, exec: vlindersExec({ state: emu, rules }) };
}

/** Runs a command through the handler as the emulator would; undefined when nothing handles it. */
function run(exec: ReturnType<typeof vlindersExec>, pod: string, command: string[], opts: { container?: string; signal?: AbortSignal; ns?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const signal = opts.signal ?? new AbortController().signal;
  const running = exec({ namespace: opts.ns ?? NS, pod, container: opts.container ?? 'ray-worker', command, stdout, stderr, signal });
  if (!running) return undefined;
  return running.then((code) => ({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
}

const workerOn = (e: KubeApiEmulator, seeded: SeededCluster, node: string): string =>
  seeded.ray.workers.find((w) => (e.get('v1', 'Pod', NS, w)?.spec as { nodeName?: string }).nodeName === node) as string;

describe('nvidia-smi in Ray worker pods', () => {
  it('prints the default table of the node’s GPU model: H100, H200 and MIG captures', async () => {
    const { e, seeded, exec } = await world({ gpuNodes: 3, gpuModels: ['h100', 'h200', 'mig'] });
    const expected = ['table_h100-80gb-hbm3_load.txt', 'table_h200_load.txt', 'table_h100-mig_load.txt'];
    for (const [i, node] of seeded.nodes.gpu.entries()) {
      const r = await run(exec, workerOn(e, seeded, node), ['nvidia-smi']);
      expect(r).toEqual({ code: 0, stdout: readCaptured(`nvidia-smi/${expected[i]}`), stderr: '' });
    }
    const h200 = e.get('v1', 'Node', undefined, seeded.nodes.gpu[1] as string);
    expect(h200?.metadata.labels).toMatchObject({ 'nvidia.com/gpu.product': 'NVIDIA-H200', 'nvidia.com/gpu.memory': '143771' });
  });

  it('answers --query-gpu with the requested columns, in order, in nvidia-smi’s CSV format', async () => {
    const { seeded, exec } = await world();
    const worker = seeded.ray.workers[0] as string;
    const q = (fields: string, format = 'csv') => run(exec, worker, ['nvidia-smi', `--query-gpu=${fields}`, `--format=${format}`]);
    expect(await q('index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw')).toEqual({
      code: 0,
      stdout: 'index, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu, power.draw [W]\n0, NVIDIA H100 80GB HBM3, 100 %, 19818 MiB, 81559 MiB, 59, 631.95 W\n',
      stderr: '',
    });
    expect((await q('memory.total,index', 'csv,noheader,nounits'))?.stdout).toBe('81559, 0\n');
    expect((await q('gpu_name,pci.bus_id'))?.stdout).toBe('name, pci.bus_id\nNVIDIA H100 80GB HBM3, 00000000:00:09.0\n'); // aliases print the canonical name
    expect(await q('index,gpu.temperature')).toEqual({ code: 2, stdout: 'Field "gpu.temperature" is not a valid field to query.\n\n', stderr: '' });
    // Space-separated values work too, as with the real binary.
    expect((await run(exec, worker, ['nvidia-smi', '--query-gpu', 'ecc.errors.uncorrected.volatile.total', '--format', 'csv,noheader']))?.stdout).toBe('0\n');
  });

  it('keeps [N/A] for fields the GPU does not support (MIG utilisation) and selects every field of the capture', async () => {
    const { seeded, exec } = await world({ gpuNodes: 3, gpuModels: ['mig'] });
    const worker = seeded.ray.workers[0] as string;
    expect((await run(exec, worker, ['nvidia-smi', '--query-gpu=utilization.gpu,mig.mode.current', '--format=csv']))?.stdout).toBe('utilization.gpu [%], mig.mode.current\n[N/A], Enabled\n');
    const csv = readCaptured('nvidia-smi/query-gpu-allfields_h100-mig_load.csv');
    const all = csv.split('\n')[0]?.split(', ').map((h) => h.replace(/ \[.*\]$/, '')).join(',') as string;
    expect((await run(exec, worker, ['nvidia-smi', `--query-gpu=${all}`, '--format=csv']))?.stdout).toBe(csv);
  });

  it('answers --query-compute-apps and the other recorded commands (-L)', async () => {
    const { seeded, exec } = await world({ gpuNodes: 3, gpuModels: ['h200'] });
    const worker = seeded.ray.workers[0] as string;
    const apps = await run(exec, worker, ['nvidia-smi', '--query-compute-apps=timestamp,gpu_name,gpu_bus_id,gpu_serial,gpu_uuid,pid,process_name,used_gpu_memory', '--format=csv']);
    expect(apps?.stdout).toBe(readCaptured('nvidia-smi/query-compute-apps_h200_load.csv'));
    expect((await run(exec, worker, ['nvidia-smi', '--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits']))?.stdout).toBe('10291, 2566\n10293, 1542\n10309, 28234\n');
    expect(await run(exec, worker, ['nvidia-smi', '-L'])).toMatchObject({ code: 0, stdout: 'GPU 0: NVIDIA H200 (UUID: GPU-00000000-0000-0000-0000-000000000000)\n' });
    expect(await run(exec, worker, ['nvidia-smi', '--no-such-flag'])).toMatchObject({ code: 2 });
  });

  it('runs only where a container holds GPUs; other commands are not found', async () => {
    const { seeded, exec } = await world();
    expect(run(exec, seeded.ray.workers[0] as string, ['python', '-V'])).toBeUndefined();
    expect(run(exec, seeded.ray.head, ['nvidia-smi'], { container: 'ray-head' })).toBeUndefined();
    expect(run(exec, 'postgres-0', ['nvidia-smi'], { ns: 'vlinders-platform', container: 'postgres' })).toBeUndefined();
    expect(run(exec, 'no-such-pod', ['nvidia-smi'])).toBeUndefined();
  });

  it('prints the real error texts with nvidia-smi’s exit codes, per pod', async () => {
    const rules: GpuExecRule[] = [{ pod: /.*/, error: 'no-devices' }];
    const { seeded, exec } = await world({}, rules);
    const [a, b, c] = seeded.ray.workers as [string, string, string];
    rules.push({ pod: b, error: 'no-driver' }, { pod: c, error: 'driver-mismatch' });
    expect(await run(exec, a, ['nvidia-smi'])).toEqual({ code: 6, stdout: 'No devices were found\n', stderr: '' });
    expect(await run(exec, b, ['nvidia-smi', '--query-gpu=name', '--format=csv'])).toEqual({
      code: 9,
      stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      stderr: '',
    });
    expect(await run(exec, c, ['nvidia-smi'])).toEqual({ code: 18, stdout: 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.144\n', stderr: '' });
    // A later rule wins field by field: this pod prints again, from the capture it names.
    rules.push({ pod: a, error: undefined, capture: 'h200' });
    expect(await run(exec, a, ['nvidia-smi'])).toEqual({ code: 0, stdout: readCaptured('nvidia-smi/table_h200_load.txt'), stderr: '' });
  });

  it('hangs until the client goes away, and delays when asked', async () => {
    const { seeded } = await world({ gpuNodes: 3 });
    const [hung, slow] = seeded.ray.workers as [string, string];
    const rules: GpuExecRule[] = [{ pod: hung, hang: true }, { pod: slow, delayMs: 150 }];
    const handler = vlindersExec({ state: emu as KubeApiEmulator, rules });
    const ac = new AbortController();
    let settled = false;
    const hanging = run(handler, hung, ['nvidia-smi'], { signal: ac.signal })?.then((r) => ((settled = true), r));
    const t0 = Date.now();
    const r = await run(handler, slow, ['nvidia-smi', '-L']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r?.code).toBe(0);
    expect(settled).toBe(false);
    ac.abort();
    expect((await hanging)?.stdout).toBe('');
    // An abort during the delay ends the call early, with nothing printed.
    const ac2 = new AbortController();
    const cut = run(handler, slow, ['nvidia-smi'], { signal: ac2.signal });
    setTimeout(() => ac2.abort(), 20);
    expect((await cut)?.stdout).toBe('');
  });

  it('works through the emulator for the product’s exec (client-node over WebSocket)', async () => {
    const { e, seeded } = await world();
    e.setHooks({ exec: vlindersExec({ state: e, rules: [{ node: /gpu-3$/, error: 'no-devices' }] }) });
    const kc = new KubeConfig();
    kc.loadFromString(e.kubeconfig());
    const kube = new KubeClient('emulator', kc, 5000);
    const collect = () => {
      const s = new PassThrough();
      const chunks: Buffer[] = [];
      s.on('data', (b: Buffer) => chunks.push(b));
      return { s, text: () => Buffer.concat(chunks).toString() };
    };
    const ok = collect();
    const healthy = workerOn(e, seeded, 'vlinders-gpu-1');
    const code = await kube.exec(NS, healthy, 'ray-worker', ['nvidia-smi', '--query-gpu=name,memory.used', '--format=csv,noheader'], { stdout: ok.s, timeoutMs: 5000 });
    expect([code, ok.text()]).toEqual([0, 'NVIDIA H100 80GB HBM3, 19818 MiB\n']);
    const bad = collect();
    const broken = workerOn(e, seeded, 'vlinders-gpu-3');
    expect(await kube.exec(NS, broken, 'ray-worker', ['nvidia-smi'], { stdout: bad.s, timeoutMs: 5000 })).toBe(6);
    expect(bad.text()).toBe('No devices were found\n');
  });
});
