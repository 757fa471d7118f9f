// One backup or restore per database at a time, across replicas: a lock entry in the bot's
// store (create-if-absent, like a pending action's claim). The holder renews it while it
// works (a lease), so a crashed replica's lock is free again one lease later, not hours later;
// the next operation takes it over with a compare-and-swap.
import { randomBytes } from 'node:crypto';
import { UserFacingError } from '../core/errors.js';
import type { Store } from '../core/store.js';

/** How long a lock outlives its holder's last renewal; renewed every third of it. */
export const LOCK_LEASE_MS = 120_000;

const KIND = 'db-operation-lock';

export interface OperationLock {
  operation: 'backup' | 'restore' | 'restore-drill';
  database: string;
  /** The cluster the database is on (each cluster has its own platform database). */
  cluster?: string;
  by: string;
  since: string;
  /** The lease's end; the holder moves it on while it works. */
  expiresAt: number;
  detail?: string;
  /** Which holder: a lock is renewed and released only by the one that took it. */
  holder?: string;
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
 * another operation holds it. The lock is renewed while `work` runs and released however it ends.
 */
export async function withDatabaseLock<T>(
  store: Store,
  want: Omit<OperationLock, 'since' | 'expiresAt' | 'holder'>,
  work: () => Promise<T>,
  opts: { leaseMs?: number; now?: () => number; onLost?: (err: Error) => void } = {},
): Promise<T> {
  const { leaseMs = LOCK_LEASE_MS, now = Date.now } = opts;
  const holder = randomBytes(8).toString('hex');
  const lock: OperationLock = { ...want, since: new Date(now()).toISOString(), expiresAt: now() + leaseMs, holder };
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
  const ours = async () => {
    const entry = await store.get<OperationLock>(KIND, key);
    return entry?.value.holder === holder ? entry : undefined;
  };
  let renewing = Promise.resolve();
  const renew = setInterval(() => {
    renewing = (async () => {
      const entry = await ours();
      // Lost only when renewals failed for a whole lease and another operation took it over.
      if (!entry || !(await store.update(KIND, key, { ...entry.value, expiresAt: now() + leaseMs }, entry.version))) {
        opts.onLost?.(new Error(`the lock of ${key} was taken over`));
      }
    })().catch((err: unknown) => opts.onLost?.(err instanceof Error ? err : new Error(String(err))));
  }, leaseMs / 3);
  renew.unref();
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await renewing;
    if (await ours()) await store.delete(KIND, key);
  }
}

/** Refuses (BusyError naming the holder) when an unexpired lock of `database` is held: for plans. */
export async function assertIdle(store: Store, where: { database: string; cluster?: string }, now: () => number = Date.now): Promise<void> {
  const held = await store.get<OperationLock>(KIND, lockKey(where));
  if (held && held.value.expiresAt > now()) throw new BusyError(describe(held.value, now()));
}
