// Every command × role × channel, against a table written out by hand from the test
// config (test/fixtures/world.ts), not computed by the code under test.
import { describe, expect, it } from 'vitest';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';

type Role = 'viewer' | 'operator' | 'admin' | undefined;
const RANK = { viewer: 0, operator: 1, admin: 2 } as const;

// Who holds what, where, as the config says.
const ROLE_TABLE: Record<keyof typeof USERS, Record<keyof typeof CHANNELS, Role>> = {
  viewer: { ops: 'viewer', general: 'viewer', incidents: 'viewer' },
  operator: { ops: 'operator', general: undefined, incidents: undefined },
  admin: { ops: 'admin', general: 'admin', incidents: 'admin' },
  approver: { ops: 'admin', general: 'admin', incidents: 'admin' },
  groupMember: { ops: 'viewer', general: 'viewer', incidents: 'viewer' },
  stranger: { ops: undefined, general: undefined, incidents: undefined },
};
const CHANGE_CHANNELS = new Set<keyof typeof CHANNELS>(['ops', 'incidents']);

describe('RBAC matrix', async () => {
  const { engine, log } = testEngine();
  const cases = engine.commands.flatMap((command) =>
    (Object.keys(USERS) as Array<keyof typeof USERS>).flatMap((user) =>
      (Object.keys(CHANNELS) as Array<keyof typeof CHANNELS>).map((channel) => ({ command, user, channel })),
    ),
  );

  it('covers every command', () => {
    expect(engine.commands.map((c) => c.name)).toEqual(expect.arrayContaining(['help', 'whoami', 'test-change', 'test-destroy']));
    for (const c of engine.commands) expect(c.examples?.length, `${c.name} needs an example`).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [c.command.name, c.user, c.channel, c] as const))('%s by %s in #%s', async (_n, _u, _c, { command, user, channel }) => {
    const role = ROLE_TABLE[user][channel];
    const expected = role !== undefined && RANK[role] >= RANK[command.role] && (command.risk === 'read' || CHANGE_CHANNELS.has(channel));
    const before = log.audit().length;
    const example = (command.examples?.[0] ?? command.name).slice(command.name.length).trim();
    const outcome = await engine.invoke(slackCaller(USERS[user], CHANNELS[channel]), `${command.name} ${example}`, noIO());
    const events = log.audit().slice(before).map((l) => l.event);
    if (expected) {
      // Allowed: it got past RBAC (commands that need a cluster then say none is configured).
      expect(events, outcome.kind === 'error' ? outcome.message : '').toContain('invoke');
      expect(events).not.toContain('deny');
    } else {
      expect(outcome.kind).toBe('error');
      expect(events).toEqual(['deny']);
      if (outcome.kind === 'error') {
        if (role !== undefined && RANK[role] >= RANK[command.role]) expect(outcome.message).toMatch(/may only run in/);
        else expect(outcome.message).toContain(`needs the ${command.role} role`);
      }
    }
  });
});
