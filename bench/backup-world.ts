// The backup benchmark's peers in their own process (so their memory and CPU are not counted
// against the bot): the real PostgreSQL filled to about SIZE MB of dump, s3rver, and the
// kube-apiserver emulator whose postgres-0 runs the real pg_dump/psql. S3 is s3rver itself,
// not the tests' fault-injecting peer in front of it (no faults here; it adds a copy of each byte).
// Args: sizeMB kubeconfig-path. Prints one JSON line; exits when stdin closes.
import { startVlindersWorld } from '../src/sandbox/kube/world/index.js';
import { KubeApiEmulator } from '../src/sandbox/kube/index.js';
import { startPostgres } from '../test/tools/postgres.js';
import { startS3 } from '../test/tools/s3.js';

const [sizeMB, kubeconfigPath] = process.argv.slice(2) as [string, string];
const started = performance.now();
const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
// ~100 bytes of COPY text per event row; users 1/20 of that. md5 text compresses like real ids.
const rows = Math.round((Number(sizeMB) * 2 ** 20) / 105);
await pg.psql(`
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, ${Math.ceil(rows / 20)}) g;
  CREATE TABLE events (id bigint, user_id bigint, kind text, payload text);
  INSERT INTO events SELECT g, g % ${Math.ceil(rows / 20)}, (ARRAY['chat','embed','tokens'])[1 + g % 3], md5(g::text) || md5((g * 7)::text)
    FROM generate_series(1, ${rows}) g;
`);
const emu = await KubeApiEmulator.start();
const world = startVlindersWorld(emu, { postgres: { server: pg } });
await emu.writeKubeconfig(kubeconfigPath);
const dbBytes = Number((await pg.psql("SELECT pg_database_size('vlinders')")).trim());
process.stdout.write(`${JSON.stringify({ ready: true, pg: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: pg.database }, s3: { endpoint: s3.s3rverEndpoint, bucket: s3.bucket }, dbBytes, seedMs: Math.round(performance.now() - started), pids: { world: process.pid, postgres: pg.serverPid } })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  world.stop();
  void Promise.all([emu.close(), pg.stop(), s3.stop()]).then(() => process.exit(0));
});
