// The console's demo workspace: a few people holding different roles, three channels, and the
// config that binds them. Built in code so `npm start` needs no file on a fresh machine.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config, type Role } from '../config/schema.js';

export interface DemoUser {
  id: string;
  name: string;
  /** What the picker says about them. */
  title: string;
}

export interface DemoChannel {
  id: string;
  name: string;
  /** Shown under the channel's name. */
  purpose?: string;
}

export const DEMO_CHANNELS = {
  ops: { id: 'C0DEMOOPS', name: 'ops', purpose: 'Change commands (scale-gpu …) run here, after Approve.' },
  general: { id: 'C0DEMOGEN', name: 'general', purpose: 'Read-only commands: status, gpu, whoami, help.' },
  incidents: { id: 'C0DEMOINC', name: 'incidents', purpose: 'Alert threads, and one line per incident; each incident gets its own channel.' },
} as const satisfies Record<string, DemoChannel>;

export const DEMO_USERS = {
  viewer: { id: 'U0DEMOVERA', name: 'vera', title: 'Vera · viewer' },
  operator: { id: 'U0DEMOOTTO', name: 'otto', title: 'Otto · operator in #ops' },
  admin: { id: 'U0DEMOADA', name: 'ada', title: 'Ada · admin, approver' },
  // A destructive change (restore) needs a second approver besides the one who asked.
  approver: { id: 'U0DEMOBEA', name: 'bea', title: 'Bea · admin, approver' },
} as const satisfies Record<string, DemoUser>;

export const demoUsers: readonly DemoUser[] = Object.values(DEMO_USERS);
export const demoChannels: readonly DemoChannel[] = Object.values(DEMO_CHANNELS);

/**
 * The config the console runs the bot with: `base` (the config file, when there is one) for
 * clusters, namespaces and limits, with the demo people's roles in place of its RBAC, since
 * its real Slack user ids mean nothing in the emulator.
 */
export function demoConfig(base: Config | undefined, clusters: Config['clusters']): Config {
  const { viewer, operator, admin, approver } = DEMO_USERS;
  const roles: Record<Role, { users: string[]; groups: string[]; channels?: string[] }> = {
    // Otto is a viewer everywhere and an operator only in #ops, as an on-call engineer would be.
    viewer: { users: [viewer.id, operator.id], groups: [] },
    operator: { users: [operator.id], groups: [], channels: [DEMO_CHANNELS.ops.id] },
    admin: { users: [admin.id, approver.id], groups: [] },
  };
  const config = configSchema.parse({
    ...(base ?? {}),
    clusters,
    rbac: {
      roles,
      approvers: { users: [admin.id, approver.id], groups: [] },
      changeChannels: [DEMO_CHANNELS.ops.id],
      groupCacheSeconds: 0,
    },
    // The audit channel of a real config is a real channel id; the demo has none.
    audit: {},
    // Its incidents channel is the demo's (a real config's is a real channel id).
    alerts: { ...base?.alerts, channel: DEMO_CHANNELS.incidents.id },
  });
  return config;
}

/**
 * Whether this machine has a Kubernetes cluster to talk to: $KUBECONFIG, ~/.kube/config, or
 * clusters in the config file. Without one the console runs the sandbox cluster.
 */
export function hasKubeconfig(config: Config | undefined, env: NodeJS.ProcessEnv = process.env, home = homedir()): boolean {
  if ((config?.clusters.length ?? 0) > 0) return true;
  if (env.KUBECONFIG?.trim()) return true;
  return existsSync(join(home, '.kube', 'config'));
}
