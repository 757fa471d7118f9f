// What the digests read from systems other helpers own (backups in S3, the platform's
// PostgreSQL). The reports are written against these small interfaces; `serve` wires them.
// Unwired, a report says so instead of guessing.

export interface BackupEntry {
  /** The object key or name of the dump. */
  name: string;
  at: Date;
  sizeBytes?: number;
  /** False for a backup whose checksum metadata is missing (the old runbook's dumps). */
  verified?: boolean;
}

export interface BackupListing {
  /** Backups newest first, at most `limit`. */
  list(opts: { limit: number; signal?: AbortSignal }): Promise<BackupEntry[]>;
}

export interface DatabaseHealthReading {
  connections: number;
  maxConnections: number;
  sizeBytes: number;
  /** Slowest statements by mean time; undefined when pg_stat_statements is not installed. */
  slowest?: Array<{ query: string; calls: number; meanMs: number }>;
  /** Why the slowest statements could not be read although the extension is installed. */
  slowestProblem?: string;
}

export interface DatabaseHealthSource {
  read(opts: { signal?: AbortSignal }): Promise<DatabaseHealthReading>;
}

export interface DigestSources {
  backups?: BackupListing;
  database?: DatabaseHealthSource;
}

/** What the bot itself recorded: the alert groups it opened threads for, and declared incidents. */
export interface BotRecords {
  alertThreads(): Promise<Array<{ name?: string; severity?: string; status: 'firing' | 'resolved'; openedAt: number; resolvedAt?: number; notifications: number }>>;
  incidents(): Promise<Array<{ number: number; title: string; sev: number; status: 'open' | 'resolved'; openedAt: number; resolvedAt?: number }>>;
}
