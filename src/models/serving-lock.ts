// Changes to what Ray Serve serves, one at a time per cluster: `model update` and `gpu-memory`
// both patch the vLLM settings ConfigMap and redeploy or restart the workers, and two at once
// would leave the workers on whichever finished last (a lease in the store, core/operation-lock.ts).
import type { CommandContext } from '../core/command.js';
import { assertUnlocked, withOperationLock, type LockId } from '../core/operation-lock.js';

export function servingLock(ctx: CommandContext) {
  const cluster = ctx.services.clusterName;
  const id: LockId = { kind: 'serving-operation-lock', key: cluster ?? 'default' };
  const subject = `Ray Serve application ${ctx.config.ray.serveApplication}`;
  return {
    /** For plans: refuses now, naming the running change, rather than at approval. */
    assertIdle: () => assertUnlocked(ctx.store, id),
    run: <T>(operation: string, work: () => Promise<T>, detail?: string): Promise<T> =>
      withOperationLock(ctx.store, id, { operation, subject, cluster, by: ctx.caller.userId, detail }, work, {
        onLost: (err) => ctx.log.warn({ err }, 'serving lock lost'),
      }),
  };
}
