// The model-files preflight check against the seeded cluster: the models PVC (a real temp dir)
// holds the configured model and its manifest; the verify Job runs the real sha256sum there.
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelFilesCheck } from '../../src/preflight/checks/model-files.js';
import type { CheckResult } from '../../src/preflight/check.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { I, settledLeftovers } from '../models/ops-world.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function check(tweak: (c: Awaited<ReturnType<typeof startCluster>>) => void = () => {}) {
  const cluster = await startCluster({ jobRunMs: 50 });
  closers.push(() => cluster.close());
  tweak(cluster);
  const config = clusterConfig();
  const result = (await modelFilesCheck.run({ kube: cluster.client, config, signal: new AbortController().signal, now: new Date() })) as CheckResult;
  return { cluster, result };
}

const seededDir = (cluster: Awaited<ReturnType<typeof startCluster>>) => join(cluster.world.models.dir, 'meta-llama', 'Llama-3.1-8B-Instruct');

describe('preflight: model files', () => {
  it('passes on the seeded cluster and leaves no Job behind', async () => {
    const { cluster, result } = await check();
    expect(modelFilesCheck.phases).toEqual([3]);
    expect(result).toEqual({ status: 'pass', detail: '3 files of meta-llama/Llama-3.1-8B-Instruct match SHA256SUMS (vlinders-models:/models/meta-llama/Llama-3.1-8B-Instruct).' });
    expect(await settledLeftovers(cluster)).toEqual([]);
  });

  it('fails on a file that no longer matches its checksum, naming it, with the fix', async () => {
    const { result } = await check((c) => appendFileSync(join(seededDir(c), 'model-00001-of-00001.safetensors'), 'bit rot'));
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('model-00001-of-00001.safetensors: FAILED');
    expect(result.fix).toContain('model update meta-llama/Llama-3.1-8B-Instruct');
  });

  it('fails when the manifest is missing', async () => {
    const { result } = await check((c) => rmSync(join(seededDir(c), 'SHA256SUMS')));
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/SHA256SUMS: No such file/);
  });

  it('fails when the ConfigMap names no model, or is gone', async () => {
    const noKey = await check((c) => {
      const cm = c.kube.get('v1', 'ConfigMap', I, 'vlinders-config');
      if (cm) c.kube.replace({ ...cm, data: { gpu_memory_utilization: '0.9' } });
    });
    expect(noKey.result).toMatchObject({ status: 'fail', detail: 'ConfigMap vlinders-inference/vlinders-config has no model entry.' });
    const gone = await check((c) => c.kube.remove('v1', 'ConfigMap', I, 'vlinders-config'));
    expect(gone.result.status).toBe('fail');
    expect(gone.result.detail).toContain('Cannot read ConfigMap vlinders-inference/vlinders-config');
  });
});
