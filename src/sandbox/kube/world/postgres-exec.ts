// The world's postgres-0 runs the REAL pg_dump and psql (argv as the bot sent it, never a
// shell) against a real PostgreSQL server the test started, piping exec stdin/stdout/stderr
// and the exit code. Inside the real pod, local connections over the unix socket are
// trusted; here PGHOST/PGPORT point the binaries at the test server the same way.
// Fault switches break it the way it breaks for real: pg_dump killed midway, or the exec
// stream cut (the connection drops with no exit status).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ClusterState, ExecHandler, ExecRequest } from '../contract.js';
import { NAMESPACES } from './seed.js';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The server's unix socket directory (local trust, as inside the pod). */
  socketDir?: string;
}

export interface PostgresFaults {
  /** pg_dump is killed (SIGKILL, exit 137) after writing this many bytes. */
  killDumpAfterBytes?: number;
  /** The exec connection is cut after this many bytes of stdout, before any exit status. */
  cutStreamAfterBytes?: number;
  /** pg_dump / psql start this late (ms): time for a second request to race the first. */
  delayMs?: number;
}

export interface PostgresExecOptions {
  state: ClusterState;
  server: PostgresServer;
  /** Read on every exec, so a test can switch faults on and off between runs. */
  faults?: PostgresFaults;
  /** The container's home directory (HOME), where psql looks for a ~/.psqlrc unless told not to. */
  home?: string;
}

export const POSTGRES_POD = { namespace: NAMESPACES.platform, pod: 'postgres-0', container: 'postgres', secret: 'postgres-credentials', secretKey: 'password' } as const;

const BINARIES = new Set(['pg_dump', 'psql', 'pg_isready']);
const KILLED = 137;

/** The Secret the StatefulSet's POSTGRES_PASSWORD comes from, holding the test server's password. */
export function seedPostgresSecret(state: ClusterState, server: PostgresServer): void {
  if (state.get('v1', 'Secret', POSTGRES_POD.namespace, POSTGRES_POD.secret)) return;
  state.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: POSTGRES_POD.secret, namespace: POSTGRES_POD.namespace, labels: { 'app.kubernetes.io/name': 'postgres' } },
    type: 'Opaque',
    data: { [POSTGRES_POD.secretKey]: Buffer.from(server.password).toString('base64'), username: Buffer.from(server.user).toString('base64') },
  });
}

/**
 * The bot's backup signing Secret (config backup.signingSecret's defaults, in the default
 * store namespace), with a random key: what an operator creates with `openssl rand -hex 32`.
 */
export function seedSigningSecret(state: ClusterState): void {
  const [namespace, name] = ['vlinders-ops', 'vlinders-ops-backup-signing'];
  if (state.get('v1', 'Secret', namespace, name)) return;
  state.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: { key: Buffer.from(randomBytes(32).toString('hex')).toString('base64') },
  });
}

export function postgresExec(opts: PostgresExecOptions): ExecHandler {
  return (req: ExecRequest) => {
    if (req.namespace !== POSTGRES_POD.namespace || req.pod !== POSTGRES_POD.pod || req.container !== POSTGRES_POD.container) return undefined;
    const [cmd, ...args] = req.command;
    const name = cmd?.split('/').pop() ?? '';
    if (!BINARIES.has(name)) return undefined;
    return run(req, name, args, opts);
  };
}

async function run(req: ExecRequest, name: string, args: string[], opts: PostgresExecOptions): Promise<number> {
  const faults = opts.faults ?? {};
  const { server } = opts;
  if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
  if (req.signal.aborted) return KILLED;
  const child = spawn(name, args, {
    shell: false,
    stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      ...(opts.home ? { HOME: opts.home } : {}),
      PGHOST: server.socketDir ?? server.host,
      PGPORT: String(server.port),
      // Over TCP (no socket dir) the pod's trust is stood in for by the password.
      ...(server.socketDir ? {} : { PGPASSWORD: server.password }),
    },
  });
  const onAbort = () => child.kill('SIGKILL');
  req.signal.addEventListener('abort', onAbort, { once: true });
  if (req.stdin && child.stdin) {
    req.stdin.pipe(child.stdin);
    child.stdin.on('error', () => undefined); // psql exiting early closes its stdin: its exit code says why
  }
  let written = 0;
  let killed = false;
  const watched = name === 'pg_dump' ? faults.killDumpAfterBytes : undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (killed) return;
    if (faults.cutStreamAfterBytes !== undefined && written + chunk.length >= faults.cutStreamAfterBytes && req.cut) {
      killed = true;
      child.kill('SIGKILL');
      req.cut();
      return;
    }
    // Killed exactly there: what came before the kill is all the client ever gets, even when
    // pg_dump had written the rest already (a small dump arrives in one chunk).
    const cutAt = watched !== undefined && written + chunk.length >= watched ? watched - written : undefined;
    written += chunk.length;
    if (cutAt !== undefined) {
      killed = true;
      child.kill('SIGKILL');
      req.stdout.write(chunk.subarray(0, cutAt));
      return;
    }
    if (!req.stdout.write(chunk)) {
      child.stdout?.pause();
      req.stdout.once('drain', () => child.stdout?.resume());
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => req.stderr.write(chunk));
  const code = await new Promise<number>((resolve) => {
    child.on('error', (err) => {
      req.stderr.write(`exec: "${name}": ${err.message}\n`);
      resolve(127);
    });
    child.on('close', (exit, signal) => resolve(killed ? KILLED : (exit ?? (signal ? KILLED : 1))));
  });
  req.signal.removeEventListener('abort', onAbort);
  return code;
}
