// Kubeconfig loading by file and context, and several clusters side by side behind --cluster.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadKubeConfig } from '../../src/kube/client.js';
import { configuredClusters } from '../../src/kube/directory.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { startVlindersWorld } from '../../src/sandbox/kube/world/index.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';

let a: KubeApiEmulator;
let b: KubeApiEmulator;
const dir = mkdtempSync(join(tmpdir(), 'vlinders-kubeconfig-'));
let file: string;

beforeAll(async () => {
  a = await KubeApiEmulator.start();
  b = await KubeApiEmulator.start();
  startVlindersWorld(a, { gpuNodes: 2, workers: 2 }).stop();
  startVlindersWorld(b, { gpuNodes: 5, workers: 4, crashLoopApiPod: true }).stop();
  // One kubeconfig with both clusters, as an operator's ~/.kube/config would have them.
  file = join(dir, 'config');
  await a.writeKubeconfig(join(dir, 'a'), { context: 'ctx-a' });
  await b.writeKubeconfig(join(dir, 'b'), { context: 'ctx-b' });
  const ka = parse(a.kubeconfig({ context: 'ctx-a' })) as Record<string, Array<{ name: string }>>;
  const kb = parse(b.kubeconfig({ context: 'ctx-b' })) as Record<string, Array<{ name: string }>>;
  const merged = { ...ka, clusters: [...(ka.clusters ?? []), ...(kb.clusters ?? [])], users: [...(ka.users ?? []), ...(kb.users ?? [])], contexts: [...(ka.contexts ?? []), ...(kb.contexts ?? [])] };
  writeFileSync(file, stringify(merged));
});
afterAll(async () => {
  await a.close();
  await b.close();
});

describe('kubeconfig', () => {
  it('loads a file and picks the context', () => {
    expect(loadKubeConfig({ name: 'b', kubeconfig: file, context: 'ctx-b' }).getCurrentCluster()?.server).toBe(b.url);
    expect(loadKubeConfig({ name: 'a', kubeconfig: file, context: 'ctx-a' }).getCurrentCluster()?.server).toBe(a.url);
  });

  it('$KUBECONFIG is used when no file is configured', () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(dir, 'b');
    try {
      expect(loadKubeConfig({ name: 'b' }).getCurrentCluster()?.server).toBe(b.url);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('an unknown context is a clear error listing the ones there are', () => {
    expect(() => loadKubeConfig({ name: 'x', kubeconfig: file, context: 'prod' })).toThrow('cluster x: kubeconfig has no context "prod" (it has: ctx-a, ctx-b)');
  });
});

describe('--cluster', () => {
  it('every command goes to the cluster it names, and to the first by default', async () => {
    const config = testConfig();
    config.clusters = [
      { name: 'alpha', kubeconfig: file, context: 'ctx-a' },
      { name: 'beta', kubeconfig: file, context: 'ctx-b' },
    ];
    const { engine } = testEngine({ config, services: configuredClusters(config.clusters) });
    const summary = async (text: string) => {
      const out = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.ops), text, noIO());
      if (out.kind !== 'report') throw new Error(out.kind === 'error' ? out.message : out.kind);
      return `${out.report.title} ${out.report.summary} ${JSON.stringify(out.report.sections)}`;
    };
    const first = await summary('status');
    expect(first).toContain('status · alpha');
    expect(first).toContain('2 GPU nodes');
    const beta = await summary('status --cluster beta');
    expect(beta).toContain('status · beta');
    expect(beta).toContain('5 GPU nodes');
    expect(beta).toContain('CrashLoopBackOff');
    expect(await summary('status --cluster=alpha')).toContain('status · alpha');
  });
});
