// Changes to what Ray Serve serves, one at a time per cluster: `model update` and `gpu-memory`
// both patch the vLLM settings ConfigMap and redeploy or restart the workers, and two at once
// would leave the workers on whichever finished last (a lease in the store, core/operation-lock.ts).
import type { CommandContext } from '../core/command.js';
import { commandLock } from '../core/operation-lock.js';

export function servingLock(ctx: CommandContext) {
  return commandLock(ctx, { kind: 'serving-operation-lock', key: ctx.services.clusterName ?? 'default' }, `Ray Serve application ${ctx.config.ray.serveApplication}`);
}
