// Pending actions: a change waits here for its Approve click. A button carries only the
// opaque id; everything else is read back from the store, so a restarted replica (or
// another one) can act on it. Claiming is a compare-and-swap, so a double click or a
// retried delivery runs the action once.
import { randomBytes } from 'node:crypto';
import type { Risk, Role } from './command.js';
import { deleteWhere, editEntry, type Store } from './store.js';

export type PendingState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface PendingAction {
  id: string;
  command: string;
  /** The argument words as typed; re-validated when the action runs. */
  words: string[];
  requester: string;
  channel: string;
  threadTs?: string;
  risk: Risk;
  role: Role;
  createdAt: number;
  expiresAt: number;
  state: PendingState;
  /** What the plan pinned, handed to the run. */
  pin?: unknown;
  /** Where the confirmation card was posted, once it was. */
  card?: { channel: string; ts: string };
  decidedBy?: string;
  decidedAt?: number;
}

const KIND = 'pending-action';
const ID = /^[A-Za-z0-9_-]{16,64}$/;

export type ClaimResult =
  | { ok: true; action: PendingAction }
  | { ok: false; reason: 'unknown' | 'expired' | 'handled'; action?: PendingAction };

export class PendingActions {
  constructor(
    /** Shared with other small state of the engine (suggestions). */
    readonly store: Store,
    private ttlMs: number,
    private now: () => number = Date.now,
  ) {}

  async create(fields: Omit<PendingAction, 'id' | 'createdAt' | 'expiresAt' | 'state'>): Promise<PendingAction> {
    const createdAt = this.now();
    const action: PendingAction = {
      ...fields,
      id: randomBytes(18).toString('base64url'),
      createdAt,
      expiresAt: createdAt + this.ttlMs,
      state: 'pending',
    };
    if (!(await this.store.create(KIND, action.id, action))) throw new Error('pending action id collision');
    return action;
  }

  async get(id: string): Promise<PendingAction | undefined> {
    if (!ID.test(id)) return undefined;
    return (await this.store.get<PendingAction>(KIND, id))?.value;
  }

  /** Records where the card is, so later updates can find it. */
  async attachCard(id: string, card: { channel: string; ts: string }): Promise<void> {
    await this.mutate(id, (a) => ({ ...a, card }));
  }

  /**
   * Atomically moves a pending, unexpired action to `next` (running or cancelled).
   * Exactly one of any number of concurrent callers gets ok: true.
   */
  async claim(id: string, by: string, next: 'running' | 'cancelled'): Promise<ClaimResult> {
    if (!ID.test(id)) return { ok: false, reason: 'unknown' };
    // A lost compare-and-swap is re-read: it may have been a harmless write (the card's
    // position) rather than another claim.
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.store.get<PendingAction>(KIND, id);
      if (!entry) return { ok: false, reason: 'unknown' };
      const action = entry.value;
      if (action.state !== 'pending') return { ok: false, reason: 'handled', action };
      if (action.expiresAt <= this.now()) return { ok: false, reason: 'expired', action };
      const claimed: PendingAction = { ...action, state: next, decidedBy: by, decidedAt: this.now() };
      if (await this.store.update(KIND, id, claimed, entry.version)) return { ok: true, action: claimed };
    }
    return { ok: false, reason: 'handled' };
  }

  async finish(id: string, state: 'succeeded' | 'failed'): Promise<void> {
    await this.mutate(id, (a) => ({ ...a, state }));
  }

  /** Drops actions that expired (or finished) more than `graceMs` ago. */
  sweep(graceMs = 60 * 60 * 1000): Promise<number> {
    return deleteWhere<PendingAction>(this.store, KIND, (a) => a.expiresAt + graceMs <= this.now());
  }

  private async mutate(id: string, change: (a: PendingAction) => PendingAction): Promise<void> {
    await editEntry<PendingAction>(this.store, KIND, id, change, 5);
  }
}
