// One backup or restore per database at a time, across replicas (a lease in the store, see
// core/operation-lock.ts); each cluster's platform database has its own.
import { assertUnlocked, withOperationLock, type LockId } from '../core/operation-lock.js';
import type { Store } from '../core/store.js';

export interface DatabaseOperation {
  operation: 'backup' | 'restore' | 'restore-drill';
  database: string;
  cluster?: string;
  by: string;
  detail?: string;
}

export const lockOf = (l: { database: string; cluster?: string }): LockId => ({ kind: 'db-operation-lock', key: l.cluster ? `${l.cluster}.${l.database}` : l.database });

/** Runs `work` holding the lock of `database` (commands take it through backupTools); refuses, naming the holder, while another operation holds it. */
export function withDatabaseLock<T>(store: Store, want: DatabaseOperation, work: () => Promise<T>, opts?: Parameters<typeof withOperationLock>[4]): Promise<T> {
  const { database, ...rest } = want;
  return withOperationLock(store, lockOf(want), { ...rest, subject: `database ${database}` }, work, opts);
}

/** Refuses (naming the holder) when an operation holds the lock of `database`: for plans. */
export function assertIdle(store: Store, where: { database: string; cluster?: string }, now?: () => number): Promise<void> {
  return assertUnlocked(store, lockOf(where), now);
}
