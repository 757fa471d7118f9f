// One backup or restore per database at a time, across replicas: a lock entry in the bot's
// store (create-if-absent, like a pending action's claim). A lock outlives a crashed replica
// only until its deadline; then the next operation takes it over with a compare-and-swap.
import { UserFacingError } from '../core/errors.js';
import type { Store } from '../core/store.js';

const KIND = 'db-operation-lock';

export interface OperationLock {
  operation: 'backup' | 'restore' | 'restore-drill';
  database: string;
  /** The cluster the database is on (each cluster has its own platform database). */
  cluster?: string;
  by: string;
  since: string;
  expiresAt: number;
  detail?: string;
}

const lockKey = (l: { database: string; cluster?: string }) => (l.cluster ? `${l.cluster}.${l.database}` : l.database);

export class BusyError extends UserFacingError {
  override name = 'BusyError';
}

function describe(lock: OperationLock, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(lock.since)) / 60_000));
  return `A ${lock.operation} of database ${lock.database}${lock.cluster ? ` on cluster ${lock.cluster}` : ''} is already running: started by <@${lock.by}> at ${lock.since.slice(0, 19).replace('T', ' ')} UTC (${minutes} min ago)${lock.detail ? `, ${lock.detail}` : ''}. Wait for it to finish.`;
}

/**
 * Runs `work` holding the lock of `database`; refuses (BusyError naming the holder) while
 * another operation holds it. The lock is released however `work` ends.
 */
export async function withDatabaseLock<T>(
  store: Store,
  want: Omit<OperationLock, 'since' | 'expiresAt'> & { ttlMs: number },
  work: () => Promise<T>,
  now: () => number = Date.now,
): Promise<T> {
  const { ttlMs, ...rest } = want;
  const lock: OperationLock = { ...rest, since: new Date(now()).toISOString(), expiresAt: now() + ttlMs };
  const key = lockKey(want);
  if (!(await store.create(KIND, key, lock))) {
    const held = await store.get<OperationLock>(KIND, key);
    const stale = held && held.value.expiresAt <= now();
    if (held && !stale) throw new BusyError(describe(held.value, now()));
    const taken = held ? await store.update(KIND, key, lock, held.version) : await store.create(KIND, key, lock);
    if (!taken) {
      const winner = await store.get<OperationLock>(KIND, key);
      throw new BusyError(winner ? describe(winner.value, now()) : `Another operation on database ${want.database} just started; try again.`);
    }
  }
  try {
    return await work();
  } finally {
    await store.delete(KIND, key);
  }
}

/** Refuses (BusyError naming the holder) when an unexpired lock of `database` is held: for plans. */
export async function assertIdle(store: Store, where: { database: string; cluster?: string }, now: () => number = Date.now): Promise<void> {
  const held = await store.get<OperationLock>(KIND, lockKey(where));
  if (held && held.value.expiresAt > now()) throw new BusyError(describe(held.value, now()));
}
