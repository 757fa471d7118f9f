// A real PostgreSQL server (the Debian package) for the sandbox, tests and benchmarks: initdb in a temp dir,
// the server on a free loopback port, a password-authenticated role `vlinders` owning the
// database `vlinders`. PostgreSQL refuses to run as root (tests and CI do), so initdb and the
// server run as the `postgres` system user, which then owns the temp dir.
import { spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian puts the server's binaries (/usr/lib/postgresql/<major>/bin), or undefined. */
export function findPgBin(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  for (const version of ['18', '17', '16', '15', '14']) {
    try {
      execFileSync(`/usr/lib/postgresql/${version}/bin/postgres`, ['--version'], { stdio: 'ignore' });
      return `/usr/lib/postgresql/${version}/bin`;
    } catch {
      // not this version
    }
  }
  return undefined;
}

/** Whether the sandbox can run the real PostgreSQL: Debian's server and client (pg_dump, psql). */
export function postgresInstalled(): boolean {
  if (!findPgBin()) return false;
  try {
    execFileSync('pg_dump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pgBin(): string {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: apt-get install postgresql');
  return bin;
}

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The unix socket directory: local connections there are trusted, as inside the postgres pod. */
  socketDir: string;
  /** The postmaster's pid (benchmarks read the CPU its exited backends used). */
  serverPid: number;
  /** psql as the `vlinders` role (argv, never a shell); stdout as text. Throws on failure. */
  psql(sql: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Whom the server runs as: the `postgres` user when we are root, ourselves otherwise. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd: string, argv: string[], opts: SpawnOptions & { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err.trim()}`))));
    // A child that exits before reading its input closes the pipe (EPIPE): its exit code says why.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/**
 * `preload`: shared_preload_libraries (e.g. pg_stat_statements, which only works preloaded).
 * `password`: the `vlinders` role's (default random), for a Secret written before the server is up.
 */
export async function startPostgres(opts: { preload?: string[]; password?: string } = {}): Promise<TestPostgres> {
  const owner = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-pg-'));
  const data = join(dir, 'data');
  const socketDir = dir;
  const password = opts.password ?? randomBytes(12).toString('hex');
  const superPassword = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  const as: SpawnOptions = { ...(owner ?? {}), cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } };
  await run(join(pgBin(), 'initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-E', 'UTF8', '--locale', 'C.UTF-8', '--no-sync', '--auth-local', 'trust', '--auth-host', 'scram-sha-256'], as);

  const port = await freePort();
  // Throwaway data: no fsync, small footprint, only loopback and our own socket dir.
  const server = spawn(
    join(pgBin(), 'postgres'),
    ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=40', '-c', 'shared_buffers=64MB', '-c', 'logging_collector=off', ...(opts.preload?.length ? ['-c', `shared_preload_libraries=${opts.preload.join(',')}`] : [])],
    { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  let exited = false;
  const exitedP = new Promise<void>((resolve) => server.on('exit', () => ((exited = true), resolve())));

  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PGHOST: socketDir, PGPORT: String(port) };
  const admin = (sql: string) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', 'postgres', '-d', 'postgres', '-c', sql], { env });
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`postgres exited at start:\n${log}`);
    try {
      await admin('SELECT 1');
      break;
    } catch (err) {
      if (i > 200) throw err;
      await sleep(50);
    }
  }
  await admin(`CREATE ROLE vlinders LOGIN CREATEDB PASSWORD '${password}'`);
  await admin('CREATE DATABASE vlinders OWNER vlinders');

  const pg: TestPostgres = {
    host: '127.0.0.1',
    port,
    user: 'vlinders',
    password,
    database: 'vlinders',
    socketDir,
    serverPid: server.pid ?? 0,
    psql: (sql, database = 'vlinders') =>
      run('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'vlinders', '-d', database], { env: { ...env, PGPASSWORD: password }, input: sql }),
    async stop() {
      if (!exited) {
        server.kill('SIGINT'); // fast shutdown
        await Promise.race([exitedP, sleep(5000)]);
        if (!exited) server.kill('SIGKILL');
        await exitedP;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pg;
}
