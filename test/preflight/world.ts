// The preflight test world: the seeded cluster (with a broken variant), a real redis-server and
// a Qdrant stub, and a config pointing at them with the seeded certificate's domain.
import type { Config } from '../../src/config/schema.js';
import { startQdrantStub } from '../../src/sandbox/qdrant/server.js';
import { PLATFORM_DOMAIN } from '../../src/sandbox/kube/world/platform.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { startRedis } from '../tools/redis.js';

export const COLLECTION = 'vlinders';

export async function startPlatformPeers() {
  const [redis, qdrant] = await Promise.all([startRedis(), startQdrantStub({ [COLLECTION]: { points: 1200 } })]);
  return {
    redis,
    qdrant,
    /** The cluster config with the platform's endpoints pointed at the peers. */
    config(overrides: Partial<Config['platform']> = {}): Config {
      const config = clusterConfig();
      config.platform = { ...config.platform, domain: PLATFORM_DOMAIN, redis: redis.address, qdrantUrl: qdrant.url, qdrantCollection: COLLECTION, timeoutSeconds: 5, ...overrides };
      return config;
    },
    async close() {
      await Promise.all([redis.close(), qdrant.close()]);
    },
  };
}

export type PlatformPeers = Awaited<ReturnType<typeof startPlatformPeers>>;

export const startWorld = (opts: WorldOptions = {}) => startCluster(opts);
