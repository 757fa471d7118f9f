// One operation at a time on a thing (a database, the served model), across replicas: a lock
// entry in the bot's store (create-if-absent, like a pending action's claim). The holder
// renews it while it works (a lease), so a crashed replica's lock is free again one lease
// later; the next operation takes it over with a compare-and-swap.
import { randomBytes } from 'node:crypto';
import { UserFacingError, asError } from './errors.js';
import type { CommandContext } from './command.js';
import type { Store } from './store.js';
import { mentionUser } from './mention.js';

/** How long a lock outlives its holder's last renewal; renewed every third of it. */
export const LOCK_LEASE_MS = 120_000;

/** Where a lock lives in the store: one kind per sort of thing, one key per thing. */
export interface LockId {
  kind: string;
  key: string;
}

export interface OperationLock {
  operation: string;
  /** What it works on, in words: "database vlinders", "Ray Serve application llm-serve". */
  subject: string;
  /** The cluster it is on (each cluster has its own). */
  cluster?: string;
  by: string;
  since: string;
  /** The lease's end; the holder moves it on while it works. */
  expiresAt: number;
  detail?: string;
  /** Which holder: a lock is renewed and released only by the one that took it. */
  holder?: string;
}

export class BusyError extends UserFacingError {
  override name = 'BusyError';
}

function describe(lock: OperationLock, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(lock.since)) / 60_000));
  return `A ${lock.operation} of ${lock.subject}${lock.cluster ? ` on cluster ${lock.cluster}` : ''} is already running: started by ${mentionUser(lock.by)} at ${lock.since.slice(0, 19).replace('T', ' ')} UTC (${minutes} min ago)${lock.detail ? `, ${lock.detail}` : ''}. Wait for it to finish.`;
}

/**
 * Runs `work` holding the lock `id`; refuses (BusyError naming the holder) while another
 * operation holds it. The lock is renewed while `work` runs and released however it ends.
 */
export async function withOperationLock<T>(
  store: Store,
  id: LockId,
  want: Omit<OperationLock, 'since' | 'expiresAt' | 'holder'>,
  work: () => Promise<T>,
  opts: { leaseMs?: number; now?: () => number; onLost?: (err: Error) => void } = {},
): Promise<T> {
  const { kind, key } = id;
  const { leaseMs = LOCK_LEASE_MS, now = Date.now } = opts;
  const holder = randomBytes(8).toString('hex');
  const lock: OperationLock = { ...want, since: new Date(now()).toISOString(), expiresAt: now() + leaseMs, holder };
  if (!(await store.create(kind, key, lock))) {
    const held = await store.get<OperationLock>(kind, key);
    const stale = held && held.value.expiresAt <= now();
    if (held && !stale) throw new BusyError(describe(held.value, now()));
    const taken = held ? await store.update(kind, key, lock, held.version) : await store.create(kind, key, lock);
    if (!taken) {
      const winner = await store.get<OperationLock>(kind, key);
      throw new BusyError(winner ? describe(winner.value, now()) : `Another operation on ${want.subject} just started; try again.`);
    }
  }
  const ours = async () => {
    const entry = await store.get<OperationLock>(kind, key);
    return entry?.value.holder === holder ? entry : undefined;
  };
  let renewing = Promise.resolve();
  const renew = setInterval(() => {
    renewing = (async () => {
      const entry = await ours();
      // Lost only when renewals failed for a whole lease and another operation took it over.
      if (!entry || !(await store.update(kind, key, { ...entry.value, expiresAt: now() + leaseMs }, entry.version))) {
        opts.onLost?.(new Error(`the lock of ${key} was taken over`));
      }
    })().catch((err: unknown) => opts.onLost?.(asError(err)));
  }, leaseMs / 3);
  renew.unref();
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await renewing;
    if (await ours()) await store.delete(kind, key);
  }
}

/** Refuses (BusyError naming the holder) when an unexpired lock `id` is held: for plans. */
export async function assertUnlocked(store: Store, id: LockId, now: () => number = Date.now): Promise<void> {
  const held = await store.get<OperationLock>(id.kind, id.key);
  if (held && held.value.expiresAt > now()) throw new BusyError(describe(held.value, now()));
}

/** A lock as a command takes it: held by its caller, on its cluster; a lost lock is logged. */
export function commandLock(ctx: Pick<CommandContext, 'store' | 'caller' | 'services' | 'log'>, id: LockId, subject: string) {
  const cluster = ctx.services.clusterName;
  return {
    /** For plans: refuses now, naming the running operation, rather than at approval. */
    assertIdle: () => assertUnlocked(ctx.store, id),
    run: <T>(operation: string, work: () => Promise<T>, detail?: string): Promise<T> =>
      withOperationLock(ctx.store, id, { operation, subject, cluster, by: ctx.caller.userId, detail }, work, {
        onLost: (err) => ctx.log.warn({ err, lock: id }, 'operation lock lost'),
      }),
  };
}
