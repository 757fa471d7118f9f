// The runbook's Jobs in the world, held to the real kubectl: a k6 Job created with `kubectl
// create -f` runs, `kubectl wait` sees it Complete, `kubectl logs job/…` prints k6's summary,
// and `kubectl delete job` takes its pod with it (the garbage collector); a verify Job runs the
// real sha256sum on the models PVC. (--validate=false: the emulator serves no OpenAPI document.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { startVlindersWorld, type World } from '../../src/sandbox/kube/world/index.js';
import { Kubectl } from './kube-helpers.js';

let emu: KubeApiEmulator;
let world: World;
let kubectl: Kubectl;

beforeAll(async () => {
  emu = await KubeApiEmulator.start();
  world = startVlindersWorld(emu, { jobRunMs: 50, k6: { p95Ms: 321.5, rps: 1100 } });
  kubectl = await Kubectl.for(emu);
});
afterAll(async () => {
  await kubectl?.cleanup();
  world?.stop();
  await emu?.close();
});

const job = (name: string, step: string, container: Record<string, unknown>, volumes: unknown[] = []) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'vlinders-platform', labels: { 'vlinders.io/runbook-step': step } },
  spec: { backoffLimit: 0, template: { metadata: { labels: { 'vlinders.io/runbook-step': step } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', ...container }], volumes } } },
});

function file(obj: unknown): string {
  const path = join(tmpdir(), `job-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(obj));
  return path;
}

describe('runbook Jobs under kubectl', () => {
  it('k6: create, wait Complete, logs hold the summary, delete takes the pod', async () => {
    const k6 = job('k6-run', 'loadtest', { image: 'grafana/k6:0.57.0', args: ['run', '--vus', '5', '--duration', '10s', '--summary-export', '/dev/stdout', '/scripts/loadtest.js'] });
    expect((await kubectl.run(['create', '--validate=false', '-f', file(k6)])).exitCode).toBe(0);
    const wait = await kubectl.run(['wait', '--for=condition=complete', 'job/k6-run', '-n', 'vlinders-platform', '--timeout=20s']);
    expect(wait.stdout).toContain('job.batch/k6-run condition met');
    const logs = await kubectl.run(['logs', 'job/k6-run', '-n', 'vlinders-platform']);
    expect(logs.stdout).toContain('"p(95)": 321.5');
    expect(logs.stdout).toContain('"rate": 1100');
    expect((await kubectl.run(['get', 'pods', '-n', 'vlinders-platform', '-l', 'job-name=k6-run', '-o', 'name'])).stdout).toMatch(/^pod\/k6-run-/);
    expect((await kubectl.run(['delete', 'job', 'k6-run', '-n', 'vlinders-platform'])).exitCode).toBe(0);
    for (let i = 0; i < 30 && emu.list('v1', 'Pod', 'vlinders-platform').some((p) => p.metadata.name.startsWith('k6-run-')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(emu.list('v1', 'Pod', 'vlinders-platform').filter((p) => p.metadata.name.startsWith('k6-run-'))).toEqual([]);
  });

  it('verify: the real sha256sum -c on the models PVC, and a Failed Job when a file changed', async () => {
    const verify = (name: string) => ({
      ...job(name, 'model-verify', { image: 'busybox:1.37', command: ['sha256sum', '-c', 'SHA256SUMS'], workingDir: '/models/meta-llama/Llama-3.1-8B-Instruct', volumeMounts: [{ name: 'models', mountPath: '/models' }] }, [{ name: 'models', persistentVolumeClaim: { claimName: 'vlinders-models' } }]),
      metadata: { name, namespace: 'vlinders-inference', labels: { 'vlinders.io/runbook-step': 'model-verify' } },
    });
    await kubectl.run(['create', '--validate=false', '-f', file(verify('verify-ok'))]);
    await kubectl.run(['wait', '--for=condition=complete', 'job/verify-ok', '-n', 'vlinders-inference', '--timeout=20s']);
    expect((await kubectl.run(['logs', 'job/verify-ok', '-n', 'vlinders-inference'])).stdout).toContain('model-00001-of-00001.safetensors: OK');
    writeFileSync(join(world.models.dir, 'meta-llama', 'Llama-3.1-8B-Instruct', 'config.json'), '{}');
    await kubectl.run(['create', '--validate=false', '-f', file(verify('verify-bad'))]);
    const failed = await kubectl.run(['wait', '--for=condition=failed', 'job/verify-bad', '-n', 'vlinders-inference', '--timeout=20s']);
    expect(failed.stdout).toContain('condition met');
    expect((await kubectl.run(['logs', 'job/verify-bad', '-n', 'vlinders-inference'])).stdout).toContain('config.json: FAILED');
  });
});
