// The Kubernetes half of the test world: the kube-apiserver emulator with a seeded Vlinders
// cluster and its controllers running, and a KubeClient on it as the product makes one.
import { fixedClusters } from '../../src/kube/directory.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { startVlindersWorld, type WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { clientFor } from '../kube/kube-client.js';
import { testConfig } from '../fixtures/world.js';
import { startBot } from './harness.js';

export async function startCluster(opts: WorldOptions = {}) {
  const kube = await KubeApiEmulator.start();
  const world = startVlindersWorld(kube, opts);
  const client = clientFor(kube, 'test');
  return {
    kube,
    world,
    client,
    services: fixedClusters([client]),
    async close() {
      world.stop();
      await kube.close();
    },
  };
}

/** The test config with a cluster and short waits. */
export function clusterConfig(overrides: { scaleTimeoutSeconds?: number; execTimeoutSeconds?: number } = {}) {
  const config = testConfig();
  config.clusters = [{ name: 'test' }];
  config.ray.scaleTimeoutSeconds = overrides.scaleTimeoutSeconds ?? 10;
  config.gpu.execTimeoutSeconds = overrides.execTimeoutSeconds ?? 2;
  return config;
}

/** A seeded cluster and the bot on it; `closers` gets their close functions, to run in reverse after the test. */
export async function startClusterWithBot(closers: Array<() => Promise<void>>, world: WorldOptions, config = clusterConfig()) {
  const cluster = await startCluster(world);
  closers.push(() => cluster.close());
  const bot = await startBot({ config, services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot };
}
