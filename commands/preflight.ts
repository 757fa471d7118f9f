import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { CHECKS } from '../src/preflight/checks/index.js';
import { phaseArg } from '../src/preflight/phase.js';
import { checklistReport, checksFor, runChecks } from '../src/preflight/run.js';

export default defineCommand({
  name: 'preflight',
  summary: 'The pre-deployment checklist: cluster, GPUs, storage, DNS, TLS, Secrets, databases, monitoring; how to fix what fails',
  usage: 'preflight [--phase N] [--cluster NAME]',
  args: z.object({ phase: phaseArg }),
  role: 'viewer',
  risk: 'read',
  examples: ['preflight', 'preflight --phase 2'],
  run: async (ctx, { phase }) => {
    const kube = ctx.services.kube();
    const checks = checksFor(CHECKS, phase);
    await ctx.progress(`Checking ${checks.length} item${checks.length === 1 ? '' : 's'}${phase ? ` for phase ${phase}` : ''}…`);
    const outcomes = await runChecks(checks, { kube, config: ctx.config, signal: ctx.signal, now: new Date() }, ctx.config.platform.timeoutSeconds * 1000, (done, total) =>
      ctx.progress(`${done}/${total} items checked`),
    );
    const cluster = ctx.services.clusterName ? ` · ${ctx.services.clusterName}` : '';
    return checklistReport(`preflight${phase ? ` phase ${phase}` : ''}${cluster}`, outcomes);
  },
});
