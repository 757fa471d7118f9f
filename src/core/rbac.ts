// Deny by default: a user holds a role only through a binding in config, directly or
// through a Slack user group, and only in the binding's channels, and for commands on the
// binding's clusters, when it lists some.
import type { Config, Role } from '../config/schema.js';
import { ROLES } from '../config/schema.js';
import type { Command } from './command.js';
import { mentionChannel } from './mention.js';

export const roleRank = (role: Role): number => ROLES.indexOf(role);

/** Members of a Slack user group (usergroups.users.list). */
export type GroupMembersFetcher = (groupId: string) => Promise<string[]>;

/**
 * Caches group members for a TTL so a click doesn't cost a Slack call each time. Commands that
 * arrive together while a group isn't cached share one read of it: usergroups.users.list is
 * Tier 2 (20 a minute), and a 429 holds back every call the bot's WebClient makes.
 */
export class GroupResolver {
  private cache = new Map<string, { members: Set<string>; until: number }>();
  private reading = new Map<string, Promise<Set<string>>>();
  constructor(
    private fetchMembers: GroupMembersFetcher,
    private ttlMs: number,
    private now: () => number = Date.now,
  ) {}

  async has(groupId: string, userId: string): Promise<boolean> {
    const hit = this.cache.get(groupId);
    if (hit && hit.until > this.now()) return hit.members.has(userId);
    return (await this.read(groupId)).has(userId);
  }

  private read(groupId: string): Promise<Set<string>> {
    let reading = this.reading.get(groupId);
    if (!reading) {
      reading = (async () => {
        try {
          // Called after the entry is set: a fetcher that throws at once still clears it below.
          const members = new Set(await Promise.resolve().then(() => this.fetchMembers(groupId)));
          this.cache.set(groupId, { members, until: this.now() + this.ttlMs });
          return members;
        } finally {
          this.reading.delete(groupId);
        }
      })();
      this.reading.set(groupId, reading);
    }
    return reading;
  }
}

export type Decision = { allowed: true; role: Role } | { allowed: false; reason: string; role?: Role };

interface Who {
  users: readonly string[];
  groups: readonly string[];
}

export class Rbac {
  constructor(
    private rbac: Config['rbac'],
    private groups: GroupResolver,
  ) {}

  private async isIn(who: Who, userId: string): Promise<boolean> {
    if (who.users.includes(userId)) return true;
    for (const group of who.groups) {
      if (await this.groups.has(group, userId)) return true;
    }
    return false;
  }

  /**
   * The highest role the user holds in this channel for a command on `cluster` (its name, the
   * default cluster's when not given), if any. A binding limited to clusters holds on those only.
   */
  async roleOf(userId: string, channelId: string, cluster?: string): Promise<Role | undefined> {
    for (const role of [...ROLES].reverse()) {
      const binding = this.rbac.roles[role];
      if (!binding) continue;
      if (binding.channels && !binding.channels.includes(channelId)) continue;
      if (binding.clusters && (cluster === undefined || !binding.clusters.includes(cluster))) continue;
      if (await this.isIn(binding, userId)) return role;
    }
    return undefined;
  }

  /** How a refusal names where the caller asked: the channel, and the cluster when bindings are limited to some. */
  private where(cluster: string | undefined): string {
    const limited = Object.values(this.rbac.roles).some((b) => b?.clusters);
    return limited ? `in this channel for cluster ${cluster ?? '(none)'}` : 'in this channel';
  }

  async isApprover(userId: string): Promise<boolean> {
    return this.isIn(this.rbac.approvers, userId);
  }

  /** May this user run this command in this channel? The reason names the role it needs. */
  async authorize(userId: string, channelId: string, command: Pick<Command, 'name' | 'role' | 'risk'>, cluster?: string): Promise<Decision> {
    const role = await this.roleOf(userId, channelId, cluster);
    if (!role) {
      return { allowed: false, reason: `\`${command.name}\` needs the ${command.role} role, and you hold no vlinders-ops role ${this.where(cluster)}.` };
    }
    if (roleRank(role) < roleRank(command.role)) {
      return { allowed: false, role, reason: `\`${command.name}\` needs the ${command.role} role; you are ${role} ${this.where(cluster) === 'in this channel' ? 'here' : this.where(cluster)}.` };
    }
    const changeChannels = this.rbac.changeChannels;
    if (command.risk !== 'read' && changeChannels && !changeChannels.includes(channelId)) {
      const where = changeChannels.map(mentionChannel).join(', ');
      return { allowed: false, role, reason: `\`${command.name}\` changes the platform and may only run in ${where}.` };
    }
    return { allowed: true, role };
  }

  /**
   * May this user approve an action requested by someone else? A change needs anyone who
   * may run it; a destructive action needs a different person who is also an approver.
   * `command.risk` is the action's own (a plan may have raised it).
   */
  async authorizeApproval(
    userId: string,
    channelId: string,
    command: Pick<Command, 'name' | 'role' | 'risk'>,
    requesterId: string,
    cluster?: string,
  ): Promise<Decision> {
    const decision = await this.authorize(userId, channelId, command, cluster);
    if (!decision.allowed || command.risk !== 'destructive') return decision;
    if (userId === requesterId) {
      return { allowed: false, role: decision.role, reason: `\`${command.name}\` is destructive: a second person with the approver role must approve it, not the requester.` };
    }
    if (!(await this.isApprover(userId))) {
      return { allowed: false, role: decision.role, reason: `\`${command.name}\` is destructive and needs an approver; you are not one.` };
    }
    return decision;
  }
}
