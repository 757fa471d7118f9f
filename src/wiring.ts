// Composition: config + adapters → the command engine. Shared by `serve`, the CLI and
// the end-to-end tests, so they all run the same thing.
import type { Logger } from 'pino';
import type { Command } from './core/command.js';
import { Audit, type AuditMirror } from './core/audit.js';
import { CommandEngine } from './core/engine.js';
import { UnreachableError, errorMessage } from './core/errors.js';
import { PendingActions } from './core/pending.js';
import { GroupResolver, Rbac, type GroupMembersFetcher } from './core/rbac.js';
import { MemoryStore, type Store } from './core/store.js';
import type { Config } from './config/schema.js';
import type { ServiceDirectory } from './core/services.js';
import { configuredClusters } from './kube/directory.js';
import { ConfigMapStore } from './kube/store.js';
import type { BackupMetrics } from './http/metrics.js';

export interface EngineOptions {
  config: Config;
  commands: readonly Command[];
  log: Logger;
  /** Slack user-group members; absent on the CLI (no groups there). */
  groupMembers?: GroupMembersFetcher;
  /** Overrides config.rbac (the CLI's fixed role). */
  rbac?: Config['rbac'];
  store?: Store;
  /** Kubernetes clusters; by default those of config.clusters. */
  services?: ServiceDirectory;
  auditMirror?: AuditMirror;
  now?: () => number;
  metrics?: BackupMetrics;
}

/**
 * Where pending actions live: ConfigMaps in the bot's namespace on the first cluster when
 * one is configured (shared by replicas, kept across restarts), memory otherwise.
 */
export function stateStore(config: Config, services: ServiceDirectory): Store {
  if (config.clusters.length === 0) return new MemoryStore();
  return new ConfigMapStore(services.forCluster(undefined).kube(), config.store.namespace);
}

export function buildEngine(opts: EngineOptions): CommandEngine {
  const now = opts.now ?? Date.now;
  const rbacConfig = opts.rbac ?? opts.config.rbac;
  const fetchMembers: GroupMembersFetcher = async (group) => {
    if (!opts.groupMembers) return [];
    try {
      return await opts.groupMembers(group);
    } catch (err) {
      throw new UnreachableError(`Could not read the members of Slack user group ${group}: ${errorMessage(err)}`);
    }
  };
  const rbac = new Rbac(rbacConfig, new GroupResolver(fetchMembers, rbacConfig.groupCacheSeconds * 1000, now));
  const services = opts.services ?? configuredClusters(opts.config.clusters);
  const pending = new PendingActions(opts.store ?? new MemoryStore(), opts.config.confirmations.ttlMinutes * 60_000, now);
  const audit = new Audit(opts.log.child({ component: 'audit' }), opts.auditMirror);
  return new CommandEngine({ commands: opts.commands, services, rbac, pending, audit, config: opts.config, log: opts.log, now, metrics: opts.metrics });
}

/** The RBAC of the terminal: one user, holding the configured CLI role (or none). */
export function cliRbac(config: Config, userId: string): Config['rbac'] {
  const role = config.cli.role;
  return {
    roles: role ? { [role]: { users: [userId], groups: [] } } : {},
    approvers: { users: [], groups: [] },
    groupCacheSeconds: 0,
  };
}
