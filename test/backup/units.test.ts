// The pure parts: the dump scanner (any chunking), names, retention, the lock.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { backupName, keyFromArgument, parseBackupName, type BackupEntry } from '../../src/backup/catalog.js';
import { withDatabaseLock } from '../../src/backup/lock.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { planRetention } from '../../src/backup/retention.js';
import { DumpScanner } from '../../src/backup/streams.js';
import { MemoryStore } from '../../src/core/store.js';
import { escapeMrkdwn } from '../../src/slack/mrkdwn.js';

const wide = Array.from({ length: 80 }, (_, i) => `column_number_${i}`).join(', ');
const DUMP = [
  '--', '-- PostgreSQL database dump', '--', '', '\\restrict abc123', '',
  'COPY public.users (id, email) FROM stdin;', '1\ta@x', '2\tb@x', '3\tCOPY public.users (x) FROM stdin;', '\\.', '',
  'COPY public."Model Deployments" (name, replicas) FROM stdin;', 'llama\t4', '\\.', '',
  `COPY billing.invoices (${wide}) FROM stdin;`, '1\t2', '2\t3', '\\.', '',
  'COPY public.events (id, payload) FROM stdin;', 'x'.repeat(5000), '\\.', '',
  '--', '-- PostgreSQL database dump complete', '--', '', '\\unrestrict abc123', '', '',
].join('\n');

async function scan(text: string, tables: string[], chunk: number) {
  const scanner = new DumpScanner(tables);
  const buf = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  let error: unknown;
  await pipeline(Readable.from(parts), scanner, async function* (src) {
    for await (const _ of src) void _;
  }).catch((err: unknown) => (error = err));
  return { counts: scanner.counts, complete: scanner.complete, bytes: scanner.bytes, error };
}

describe('DumpScanner', () => {
  it.each([1, 3, 7, 64, 4096, 1 << 20])('counts rows of the chosen tables in chunks of %i bytes', async (chunk) => {
    const r = await scan(DUMP, ['users', 'Model Deployments', 'billing.invoices'], chunk);
    expect(r.counts).toEqual({ users: 3, 'Model Deployments': 1, 'billing.invoices': 2 });
    expect(r.complete).toBe(true);
    expect(r.error).toBeUndefined();
    expect(r.bytes).toBe(Buffer.byteLength(DUMP));
  });

  it('errors at the end of a dump without its trailer', async () => {
    const cut = DUMP.slice(0, DUMP.indexOf('llama'));
    const r = await scan(cut, ['users'], 100);
    expect(r.complete).toBe(false);
    expect(String(r.error)).toMatch(/does not end with "-- PostgreSQL database dump complete"/);
  });
});

describe('backup names', () => {
  it('round-trips the new form and parses the old one; anything else is refused', () => {
    const at = new Date('2026-11-25T02:03:04.567Z');
    expect(backupName(at)).toBe('backup-20261125-020304Z.sql.gz');
    expect(parseBackupName('backup-20261125-020304Z.sql.gz')).toEqual({ takenAt: new Date('2026-11-25T02:03:04Z'), form: 'gzip' });
    expect(parseBackupName('backup-20240105.sql')).toEqual({ takenAt: new Date('2024-01-05T00:00:00Z'), form: 'plain' });
    expect(parseBackupName('backup-2024015.sql')).toBeUndefined();
    expect(keyFromArgument('postgres/', 'backup-20240105.sql')).toBe('postgres/backup-20240105.sql');
    expect(keyFromArgument('postgres/', 'postgres/backup-20240105.sql')).toBe('postgres/backup-20240105.sql');
    expect(keyFromArgument('postgres/', 's3://vlinders-backups/postgres/backup-20261125-020304Z.sql.gz')).toBe('postgres/backup-20261125-020304Z.sql.gz');
    for (const bad of ['../x', 'postgres/.incoming/backup-20261125-020304Z.sql.gz', 'backup-20261125-020304Z.sql.gz/../../x', 'other/backup-20240105.sql']) {
      expect(() => keyFromArgument('postgres/', bad)).toThrow(/is not a backup name/);
    }
  });
});

describe('retention', () => {
  const entry = (iso: string): BackupEntry => ({ key: `postgres/${iso}`, name: iso, form: 'gzip', takenAt: new Date(iso), size: 1, verified: true });
  it('keeps the newest of each of the last N days and ISO weeks, and the newest of all', () => {
    // Wednesday 2026-11-25 12:00 UTC; newest first.
    const now = Date.parse('2026-11-25T12:00:00Z');
    const list = [
      '2026-11-25T02:00:00Z', '2026-11-24T14:00:00Z', '2026-11-24T02:00:00Z', '2026-11-23T02:00:00Z',
      '2026-11-22T02:00:00Z', '2026-11-19T02:00:00Z', '2026-11-12T02:00:00Z', '2026-11-01T02:00:00Z', '2026-10-01T02:00:00Z',
    ].map(entry);
    const plan = planRetention(list, { daily: 3, weekly: 2 }, now);
    expect(plan.keep.map((k) => k.entry.name)).toEqual(['2026-11-25T02:00:00Z', '2026-11-24T14:00:00Z', '2026-11-23T02:00:00Z', '2026-11-22T02:00:00Z']);
    expect(plan.keep[3]?.why).toBe('weekly from 2026-11-16');
    expect(plan.remove.map((e) => e.name)).toEqual(['2026-11-24T02:00:00Z', '2026-11-19T02:00:00Z', '2026-11-12T02:00:00Z', '2026-11-01T02:00:00Z', '2026-10-01T02:00:00Z']);
  });
  it('always keeps the newest, however old', () => {
    const plan = planRetention([entry('2020-01-01T00:00:00Z'), entry('2019-01-01T00:00:00Z')], { daily: 1, weekly: 0 }, Date.parse('2026-11-25T12:00:00Z'));
    expect(plan.keep.map((k) => k.why)).toEqual(['newest']);
    expect(plan.remove).toHaveLength(1);
  });
});

describe('the database lock', () => {
  it('refuses a second operation naming the first, releases after, and takes over an expired one', async () => {
    const store = new MemoryStore();
    let now = Date.parse('2026-11-25T10:00:00Z');
    const clock = () => now;
    let inner: unknown;
    await withDatabaseLock(store, { operation: 'backup', database: 'vlinders', by: 'U1' }, async () => {
      now += 120_000 / 4;
      inner = await withDatabaseLock(store, { operation: 'restore', database: 'vlinders', by: 'U2' }, async () => 'ran', { leaseMs: 60_000, now: clock }).catch((e: Error) => e.message);
    }, { leaseMs: 60_000, now: clock });
    // As Slack shows it: the holder is a live mention the bot made.
    expect(escapeMrkdwn(String(inner))).toBe('A backup of database vlinders is already running: started by <@U1> at 2026-11-25 10:00:00 UTC (1 min ago). Wait for it to finish.');
    expect(await withDatabaseLock(store, { operation: 'restore', database: 'vlinders', by: 'U2' }, async () => 'ran', { leaseMs: 60_000, now: clock })).toBe('ran');
    // A crashed holder's lock expires and is taken over.
    await store.create('db-operation-lock', 'vlinders', { operation: 'backup', database: 'vlinders', by: 'U1', since: new Date(now).toISOString(), expiresAt: now + 1000 });
    now += 2000;
    expect(await withDatabaseLock(store, { operation: 'backup', database: 'vlinders', by: 'U3' }, async () => 'took over', { leaseMs: 60_000, now: clock })).toBe('took over');
    // Another cluster's database of the same name is another lock.
    const nested = await withDatabaseLock(store, { operation: 'backup', database: 'vlinders', cluster: 'prod', by: 'U1' }, () =>
      withDatabaseLock(store, { operation: 'restore', database: 'vlinders', cluster: 'staging', by: 'U2' }, async () => 'both ran', { now: clock }), { now: clock });
    expect(nested).toBe('both ran');
  });

  it('is a lease: renewed while the holder works, so a long operation keeps it; free one lease after a holder that stopped renewing', async () => {
    const store = new MemoryStore();
    const leaseMs = 300;
    const second = () => withDatabaseLock(store, { operation: 'restore', database: 'vlinders', by: 'U2' }, async () => 'ran', { leaseMs }).catch((e: Error) => e.name);
    // Three leases long: without renewals the second would take the lock over midway.
    const refusedMidway = await withDatabaseLock(store, { operation: 'backup', database: 'vlinders', by: 'U1' }, async () => {
      await sleep(3 * leaseMs);
      return second();
    }, { leaseMs });
    expect(refusedMidway).toBe('BusyError');
    expect(await store.list('db-operation-lock')).toEqual([]);
    // A holder that crashed: its lock is never renewed, and is taken over once its lease ran out.
    await store.create('db-operation-lock', 'vlinders', { operation: 'backup', database: 'vlinders', by: 'U1', since: new Date().toISOString(), expiresAt: Date.now() + leaseMs, holder: 'crashed' });
    expect(await second()).toBe('BusyError');
    await sleep(leaseMs + 50);
    expect(await second()).toBe('ran');
  });

  it('names a scheduled holder as such, not as a Slack mention', async () => {
    const store = new MemoryStore();
    const refused = await withDatabaseLock(store, { operation: 'backup', database: 'vlinders', by: 'vlinders-ops schedule' }, () =>
      withDatabaseLock(store, { operation: 'restore', database: 'vlinders', by: 'U2' }, async () => 'ran').catch((e: Error) => e.message),
    );
    expect(refused).toMatch(/^A backup of database vlinders is already running: started by vlinders-ops schedule at /);
  });

  it("a holder whose lock was taken over says so, and doesn't release the new holder's lock", async () => {
    const store = new MemoryStore();
    const lost: string[] = [];
    const other = { operation: 'restore', database: 'vlinders', by: 'U2', since: new Date().toISOString(), expiresAt: Date.now() + 60_000, holder: 'other' };
    await withDatabaseLock(store, { operation: 'backup', database: 'vlinders', by: 'U1' }, async () => {
      // As if our renewals had failed for a lease and another replica took the lock over.
      const entry = await store.get('db-operation-lock', 'vlinders');
      await store.update('db-operation-lock', 'vlinders', other, entry?.version ?? '');
      await sleep(250);
    }, { leaseMs: 300, onLost: (err) => lost.push(err.message) });
    expect(lost[0]).toMatch(/taken over/);
    expect((await store.get('db-operation-lock', 'vlinders'))?.value).toEqual(other);
  });
});
