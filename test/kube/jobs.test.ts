// runJob/followJob against the kube emulator's Job controller, which ends a failing Job as
// Kubernetes ≥ 1.31 does: FailureTarget first, Failed only once its pods have terminated.
import type { V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/kube/jobs.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { type Controller, startJobController, startKubelet } from '../../src/sandbox/kube/world/index.js';
import { namespace, node } from '../sandbox/kube-helpers.js';
import { clientFor } from './kube-client.js';

const NS = 'vlinders-inference';
/** Longer than followJob's 10 s margin past the Job's deadline: the pod's PID 1 ignores SIGTERM and is killed only then. */
const STUBBORN_GRACE_SECONDS = 15;
let emu: KubeApiEmulator;
const controllers: Controller[] = [];

beforeAll(async () => {
  emu = await KubeApiEmulator.start();
  for (const ns of ['default', NS]) emu.create(namespace(ns));
  emu.create(node('cpu-1'));
  controllers.push(
    startJobController(emu, { runMs: 60_000 }),
    startKubelet(emu, { terminationMs: 50, ignoresSigterm: (p) => p.metadata.labels?.['batch.kubernetes.io/job-name']?.startsWith('stubborn') ?? false }),
  );
});

afterAll(async () => {
  controllers.forEach((c) => c.stop());
  await emu.close();
});

const job = (name: string, grace: number): V1Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: { backoffLimit: 0, activeDeadlineSeconds: 1, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: grace, containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
});

describe('runJob', () => {
  it("reports Kubernetes' DeadlineExceeded as soon as the Job has FailureTarget, though its pod takes its whole grace period to stop", async () => {
    const progress: string[] = [];
    const started = Date.now();
    const run = runJob(clientFor(emu), NS, job('stubborn-1', STUBBORN_GRACE_SECONDS), { timeoutMs: 1000, pollMs: 100, signal: new AbortController().signal, progress: async (l) => void progress.push(l) }, async () => undefined);
    await expect(run).rejects.toThrow(/^Job vlinders-inference\/stubborn-1 did not finish within 1 s: Kubernetes stopped it \(DeadlineExceeded\)\.$/);
    expect(Date.now() - started).toBeLessThan(5000);
    // Deleted after all; its pod is still Terminating (Failed is not there yet), as on a real cluster.
    expect(emu.get('batch/v1', 'Job', NS, 'stubborn-1')).toBeUndefined();
    expect(emu.list('v1', 'Pod', NS).map((p) => [p.metadata.labels?.['job-name'], Boolean(p.metadata.deletionTimestamp)])).toEqual([['stubborn-1', true]]);
    expect(progress.at(0)).toMatch(/^Job stubborn-1: pod stubborn-1-\w+: Running$/);
  });
});
