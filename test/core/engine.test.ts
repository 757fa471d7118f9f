import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { PendingActions } from '../../src/core/pending.js';
import { MemoryStore } from '../../src/core/store.js';
import { GroupResolver, type GroupMembersFetcher } from '../../src/core/rbac.js';

const ops = (user: string) => slackCaller(user, CHANNELS.ops);

describe('engine: parsing and help', () => {
  it('suggests the nearest command for a typo', async () => {
    const { engine } = testEngine();
    const out = await engine.invoke(ops(USERS.viewer), 'hepl', noIO());
    expect(out).toEqual({ kind: 'error', message: expect.stringContaining('Did you mean `help`?') });
    const far = await engine.invoke(ops(USERS.viewer), 'zzzzzzzz', noIO());
    expect(far.kind === 'error' && far.message).not.toContain('Did you mean');
  });

  it('answers a usage error with the usage', async () => {
    const { engine, runLog } = testEngine();
    const out = await engine.invoke(ops(USERS.operator), 'test-change eleven', noIO());
    expect(out.kind).toBe('error');
    expect(out.kind === 'error' && out.message).toContain('Usage: `test-change <n> [--note TEXT]`');
    expect(runLog.runs).toHaveLength(0);
  });

  it('help lists only what the caller may run, and explains one', async () => {
    const { engine } = testEngine();
    const text = async (user: string, channel: string, input: string) => JSON.stringify(await engine.invoke(slackCaller(user, channel), input, noIO()));
    const viewerHelp = await text(USERS.viewer, CHANNELS.ops, 'help');
    expect(viewerHelp).toContain('test-lines');
    expect(viewerHelp).not.toContain('test-change');
    const adminOps = await text(USERS.admin, CHANNELS.ops, 'help');
    expect(adminOps).toContain('test-destroy');
    // Change commands are hidden where they may not run.
    expect(await text(USERS.admin, CHANNELS.general, 'help')).not.toContain('test-change');
    expect(await text(USERS.operator, CHANNELS.ops, 'help test-change')).toContain('test-change <n> [--note TEXT]');
    expect(await text(USERS.viewer, CHANNELS.ops, 'help test-change')).toContain('No command `test-change` that you may run here');
    // An empty command is help.
    expect(await text(USERS.viewer, CHANNELS.ops, '   ')).toContain('vlinders-ops commands');
  });

  it('an unreachable API is a clear failure, with secrets redacted', async () => {
    const { engine, log } = testEngine();
    const out = await engine.invoke(ops(USERS.viewer), 'test-unreachable', noIO());
    expect(out.kind).toBe('report');
    if (out.kind !== 'report') return;
    expect(out.report.status).toBe('fail');
    expect(out.report.summary).toContain('unreachable');
    expect(out.report.summary).not.toContain('xoxb-1234567890-secret');
    expect(log.text()).not.toContain('xoxb-1234567890-secret');
  });
});

describe('engine: confirmations', () => {
  it('a change is planned, approved by its requester, and runs once', async () => {
    const { engine, runLog, log } = testEngine();
    const out = await engine.invoke(ops(USERS.operator), 'test-change 4 --note "password=hunter2"', noIO());
    expect(out.kind).toBe('confirm');
    if (out.kind !== 'confirm') return;
    expect(out.plan.summary).toBe('Will set n to 4');
    expect(runLog.runs).toHaveLength(0);
    const decisions = await Promise.all([1, 2, 3].map(() => engine.decide(out.action.id, ops(USERS.operator), 'approve')));
    const approved = decisions.filter((d) => d.kind === 'approved');
    expect(approved).toHaveLength(1);
    expect(decisions.filter((d) => d.kind === 'refused').map((d) => d.kind === 'refused' && d.message)).toEqual([
      'This confirmation was already handled.',
      'This confirmation was already handled.',
    ]);
    const first = approved[0];
    if (first?.kind !== 'approved') return;
    const report = await engine.execute(first.action, first.command, noIO(), 'slack');
    expect(report.summary).toBe('n is 4');
    expect(runLog.runs).toEqual([{ command: 'test-change', args: { n: 4, note: 'password=hunter2' }, requester: USERS.operator }]);
    const events = log.audit().map((l) => l.event);
    expect(events).toEqual(['invoke', 'confirm_requested', 'approve', 'refuse', 'refuse', 'outcome']);
    // The audit line carries who, where, what, the outcome and the duration, with secrets redacted.
    const outcome = log.audit().at(-1);
    expect(outcome).toMatchObject({ user: USERS.operator, channel: CHANNELS.ops, command: 'test-change', outcome: 'ok', durationMs: expect.any(Number) });
    expect(log.text()).not.toContain('hunter2');
  });

  it('an expired confirmation is refused and nothing runs', async () => {
    let now = 1_000_000;
    const { engine, runLog } = testEngine({ now: () => now });
    const out = await engine.invoke(ops(USERS.operator), 'test-change 1', noIO());
    if (out.kind !== 'confirm') throw new Error(out.kind);
    now += 10 * 60_000;
    expect(await engine.decide(out.action.id, ops(USERS.operator), 'approve')).toEqual({
      kind: 'refused',
      message: 'This confirmation has expired. Run the command again to get a fresh one.',
    });
    expect(runLog.runs).toHaveLength(0);
  });

  it('an expired card is said to be expired to anyone who clicks it, before their role is weighed', async () => {
    let now = 1_000_000;
    const { engine } = testEngine({ now: () => now });
    const out = await engine.invoke(ops(USERS.operator), 'test-change 1', noIO());
    if (out.kind !== 'confirm') throw new Error(out.kind);
    now += 10 * 60_000;
    expect(await engine.decide(out.action.id, ops(USERS.viewer), 'approve')).toEqual({ kind: 'refused', message: 'This confirmation has expired. Run the command again to get a fresh one.' });
  });

  it('the claim itself refuses an action that expired after the click was checked', async () => {
    let now = 1_000_000;
    const pending = new PendingActions(new MemoryStore(), 60_000, () => now);
    const action = await pending.create({ command: 'test-change', words: ['1'], requester: USERS.operator, channel: CHANNELS.ops, risk: 'change', role: 'operator' });
    now += 60_001;
    expect(await pending.claim(action.id, USERS.operator, 'running')).toMatchObject({ ok: false, reason: 'expired' });
    expect((await pending.get(action.id))?.state).toBe('pending');
  });

  it('a destructive action needs a second person who is an approver', async () => {
    const { engine, runLog } = testEngine();
    const out = await engine.invoke(ops(USERS.admin), 'test-destroy db-1', noIO());
    if (out.kind !== 'confirm') throw new Error(out.kind);
    const self = await engine.decide(out.action.id, ops(USERS.admin), 'approve');
    expect(self.kind === 'refused' && self.message).toMatch(/second person/);
    const operator = await engine.decide(out.action.id, ops(USERS.operator), 'approve');
    expect(operator.kind === 'refused' && operator.message).toMatch(/needs the admin role/);
    const second = await engine.decide(out.action.id, ops(USERS.approver), 'approve');
    expect(second.kind).toBe('approved');
    if (second.kind !== 'approved') return;
    await engine.execute(second.action, second.command, noIO(), 'slack');
    expect(runLog.runs).toEqual([{ command: 'test-destroy', args: { target: 'db-1' }, requester: USERS.admin }]);
  });

  it('cancel: the requester may withdraw; a stranger may not; then nothing runs', async () => {
    const { engine, runLog } = testEngine();
    const out = await engine.invoke(ops(USERS.operator), 'test-change 2', noIO());
    if (out.kind !== 'confirm') throw new Error(out.kind);
    expect((await engine.decide(out.action.id, ops(USERS.stranger), 'cancel')).kind).toBe('refused');
    expect((await engine.decide(out.action.id, ops(USERS.operator), 'cancel')).kind).toBe('cancelled');
    expect((await engine.decide(out.action.id, ops(USERS.operator), 'approve')).kind).toBe('refused');
    expect(runLog.runs).toHaveLength(0);
  });

  it('an unknown or forged action id is refused', async () => {
    const { engine } = testEngine();
    for (const id of ['', 'x', 'a'.repeat(30), '../../etc/passwd', '{"state":"pending"}']) {
      const d = await engine.decide(id, ops(USERS.admin), 'approve');
      expect(d.kind).toBe('refused');
    }
  });

  it('group members are resolved through Slack and cached', async () => {
    const { engine, groupCalls } = testEngine();
    for (let i = 0; i < 5; i++) expect((await engine.invoke(ops(USERS.groupMember), 'whoami', noIO())).kind).toBe('report');
    expect(groupCalls.length).toBeGreaterThan(0);
    const afterFirst = groupCalls.length;
    await engine.invoke(ops(USERS.groupMember), 'whoami', noIO());
    expect(groupCalls.length).toBe(afterFirst);
  });

  it('commands arriving together before a group is cached share one read of it', async () => {
    const { engine, groupCalls } = testEngine();
    const answers = await Promise.all(Array.from({ length: 10 }, () => engine.invoke(ops(USERS.groupMember), 'whoami', noIO())));
    expect(answers.map((a) => a.kind)).toEqual(Array(10).fill('report'));
    expect(groupCalls.length).toBeGreaterThan(0);
    expect(new Set(groupCalls).size).toBe(groupCalls.length);
  });

  it('a group read that fails at once is tried again by the next command', async () => {
    let calls = 0;
    // A fetcher that throws before returning a promise, as a plain function may.
    const groups = new GroupResolver((() => {
      calls++;
      if (calls === 1) throw new Error('not connected yet');
      return Promise.resolve([USERS.groupMember]);
    }) as GroupMembersFetcher, 60_000);
    await expect(groups.has('S0SRE0001', USERS.groupMember)).rejects.toThrow('not connected yet');
    expect(await groups.has('S0SRE0001', USERS.groupMember)).toBe(true);
  });

  it('an unreachable usergroups API is a clear error, not a crash', async () => {
    const { engine } = testEngine({ groupMembers: async () => Promise.reject(new Error('ratelimited')) });
    await expect(engine.invoke(ops(USERS.groupMember), 'whoami', noIO())).rejects.toThrow(/Could not read the members of Slack user group S0SRE0001: ratelimited/);
  });
});

describe('fuzz: random argument strings are usage errors or results, never crashes', () => {
  const { engine } = testEngine();
  const names = engine.commands.map((c) => c.name);
  const word = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('--', '--note', '--n', '--group', '-1', '1e9', '"', "'", '\\', '--x=', '$(id)', '__proto__', '--constructor', 'NaN', '💥', '\u0000'),
    fc.integer().map(String),
  );
  for (const name of names) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(word, { maxLength: 8 }), fc.string({ maxLength: 20 }), async (words, raw) => {
          const text = `${name} ${words.join(' ')} ${raw}`;
          const out = await engine.invoke(ops(USERS.admin), text, noIO());
          expect(['error', 'report', 'confirm']).toContain(out.kind);
          if (out.kind === 'error') expect(out.message.length).toBeGreaterThan(0);
        }),
        { numRuns: 1000 },
      );
    });
  }
});
