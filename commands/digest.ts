import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { NotFoundError } from '../src/core/errors.js';
import { buildDailyDigest } from '../src/digest/daily.js';

export default defineCommand({
  name: 'digest',
  summary: 'The runbook\'s scheduled checks on demand: nodes, pods, ERROR lines, GPUs, TLS, backups',
  usage: 'digest daily|weekly|monthly [--post] [--cluster NAME]',
  args: z.object({
    kind: z.enum(['daily', 'weekly', 'monthly']),
    /** Post to the channel; without it the digest is a preview only the caller sees. */
    post: z.boolean().default(false),
  }),
  positional: ['kind'],
  role: 'viewer',
  risk: 'read',
  examples: ['digest daily', 'digest daily --post'],
  run: async (ctx, { kind, post }) => {
    if (kind !== 'daily') throw new NotFoundError(`The ${kind} digest is not built yet; \`digest daily\` is.`);
    await ctx.progress('Checking nodes, pods, API logs of the last 24 h, GPUs and certificates…');
    const digest = await buildDailyDigest({ kube: ctx.services.kube(), config: ctx.config, signal: ctx.signal, clusterName: ctx.services.clusterName });
    return post ? digest.report : { ...digest.report, ephemeral: true };
  },
});
