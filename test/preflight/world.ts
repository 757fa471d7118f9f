// The preflight and verify test world: the seeded cluster (with a broken variant) whose
// postgres-0 runs the real psql against a real PostgreSQL, a real redis-server, a Qdrant stub,
// and a config pointing at them with the seeded certificate's domain.
import type { Config } from '../../src/config/schema.js';
import { startQdrantStub } from '../../src/sandbox/qdrant/server.js';
import { PLATFORM_DOMAIN } from '../../src/sandbox/kube/world/platform.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { clusterConfig } from '../e2e/cluster.js';
import { startPostgres } from '../tools/postgres.js';
import { startRedis } from '../tools/redis.js';

export const COLLECTION = 'vlinders';

export async function startPlatformPeers() {
  const [redis, qdrant, pg] = await Promise.all([startRedis(), startQdrantStub({ [COLLECTION]: { points: 1200 } }), startPostgres()]);
  // An initialised schema, as the platform's migrations leave it.
  await pg.psql('CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL); CREATE TABLE api_keys (id serial PRIMARY KEY, user_id bigint REFERENCES users(id));');
  return {
    redis,
    qdrant,
    pg,
    /** World options with postgres-0 answering from the real server. */
    world(opts: WorldOptions = {}): WorldOptions {
      return { ...opts, postgres: { server: pg, faults: {} } };
    },
    /** The cluster config with the platform's endpoints pointed at the peers. */
    config({ rayServeUrl, ...overrides }: Partial<Config['platform']> & { rayServeUrl?: string } = {}): Config {
      const config = clusterConfig();
      config.platform = { ...config.platform, domain: PLATFORM_DOMAIN, redis: redis.address, qdrantUrl: qdrant.url, qdrantCollection: COLLECTION, timeoutSeconds: 5, ...overrides };
      if (rayServeUrl) config.ray = { ...config.ray, serveUrl: rayServeUrl };
      return config;
    },
    async close() {
      await Promise.all([redis.close(), qdrant.close(), pg.stop()]);
    },
  };
}

export type PlatformPeers = Awaited<ReturnType<typeof startPlatformPeers>>;
