// Database health read with psql through src/postgres: client connections in
// pg_stat_activity against max_connections, the database's size, and the slowest
// statements from pg_stat_statements when that extension is installed and loaded.
import type { DatabaseHealthReading, DatabaseHealthSource } from '../digest/sources.js';
import { errorMessage } from '../core/errors.js';
import { PostgresError, type Postgres } from './index.js';

/** One round trip: connections, max_connections, size, and whether pg_stat_statements is installed. */
const SUMMARY_SQL = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  current_setting('max_connections')::int,
  pg_database_size(current_database()),
  EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')`;

/** Newlines folded so each statement stays on psql's one output line. */
const SLOWEST_SQL = `SELECT calls, round(mean_exec_time::numeric, 3), regexp_replace(query, '\\s+', ' ', 'g')
  FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  ORDER BY mean_exec_time DESC LIMIT 5`;

export interface ConnectionReading {
  connections: number;
  maxConnections: number;
  sizeBytes: number;
  statementsInstalled: boolean;
}

export async function readConnections(pg: Postgres, signal?: AbortSignal): Promise<ConnectionReading> {
  const row = (await pg.query(SUMMARY_SQL, { signal }))[0];
  const [connections, max, size, installed] = row ?? [];
  if (row === undefined || !Number.isFinite(Number(connections)) || !Number.isFinite(Number(max))) throw new PostgresError(`psql on ${pg.where} answered the health query oddly`);
  return { connections: Number(connections), maxConnections: Number(max), sizeBytes: Number(size), statementsInstalled: installed === 't' };
}

export async function readDatabaseHealth(pg: Postgres, signal?: AbortSignal): Promise<DatabaseHealthReading> {
  const c = await readConnections(pg, signal);
  const reading: DatabaseHealthReading = { connections: c.connections, maxConnections: c.maxConnections, sizeBytes: c.sizeBytes };
  if (!c.statementsInstalled) return reading;
  try {
    const rows = await pg.query(SLOWEST_SQL, { signal });
    reading.slowest = rows.map(([calls, mean, query]) => ({ calls: Number(calls), meanMs: Number(mean), query: query ?? '' }));
  } catch (err) {
    // Installed with CREATE EXTENSION but not in shared_preload_libraries: it errors when read.
    reading.slowestProblem = errorMessage(err);
  }
  return reading;
}

export const postgresHealthSource = (pg: Postgres): DatabaseHealthSource => ({ read: ({ signal }) => readDatabaseHealth(pg, signal) });
