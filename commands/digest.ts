import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { s3BackupListing } from '../src/digest/backup-listing.js';
import { DIGEST_KINDS, buildDigest } from '../src/digest/index.js';
import { postgresHealthSource } from '../src/postgres/health.js';
import { postgresFor } from '../src/postgres/index.js';

const WHAT = {
  daily: 'nodes, pods, API logs of the last 24 h, GPUs, certificates, backups and PVC usage',
  weekly: 'disks and PVCs, the database, backups, alert history and GPU cost',
  monthly: 'certificates, capacity and the P95 latency trend',
} as const;

export default defineCommand({
  name: 'digest',
  summary: 'The runbook\'s scheduled checks on demand: daily (nodes, pods, ERROR lines, GPUs, TLS, backups), weekly (disks, database, alerts, GPU cost), monthly (certificates, capacity, latency trend, restore drill)',
  usage: 'digest daily|weekly|monthly [--post] [--cluster NAME]',
  args: z.object({
    kind: z.enum(DIGEST_KINDS),
    /** Post to the channel; without it the digest is a preview only the caller sees. */
    post: z.boolean().default(false),
  }),
  positional: ['kind'],
  role: 'viewer',
  risk: 'read',
  examples: ['digest daily', 'digest daily --post', 'digest weekly', 'digest monthly --post'],
  run: async (ctx, { kind, post }) => {
    await ctx.progress(`Checking ${WHAT[kind]}…`);
    const incidents = ctx.incidents;
    const report = await buildDigest(kind, {
      kube: ctx.services.kube(),
      config: ctx.config,
      signal: ctx.signal,
      clusterName: ctx.services.clusterName,
      records: incidents ? { alertThreads: () => incidents.alertThreads(), incidents: () => incidents.list() } : undefined,
      // The weekly database health reads the platform's PostgreSQL the way backups do.
      sources: { database: postgresHealthSource(postgresFor(ctx)), backups: s3BackupListing(ctx.config.backup) },
    });
    return post ? report : { ...report, ephemeral: true };
  },
});
