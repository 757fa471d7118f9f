// backup → backups → restore round trips and every injected fault, driven through the engine
// (the Slack path is in test/e2e/backup.test.ts). Real PostgreSQL, real pg_dump/psql (in the
// emulated postgres-0 for `exec`, on this machine for `direct`), s3rver for S3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../src/backup/index.js';
import type { Report } from '../../src/core/report.js';
import { MemoryStore } from '../../src/core/store.js';
import { digestScheduler } from '../../src/schedule/digests.js';
import { USERS, CHANNELS } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { approveAndRun, startBackupWorld, type BackupWorld } from './world.js';

let w: BackupWorld;
beforeAll(async () => {
  w = await startBackupWorld({ users: 1200, bigRows: 150_000 });
}, 60_000);
afterAll(async () => w?.close());

const operator = slackCaller(USERS.operator, CHANNELS.ops);

function engineFor(transport: 'exec' | 'direct', gzip: 'igzip' | 'zlib') {
  return testEngine({ config: w.config({ transport, gzip }), services: w.cluster.services });
}

// Each transport with each way the dump reaches gzip: through the bot (exec; direct with zlib)
// and straight from pg_dump into igzip (direct with igzip). test/backup/gzip.test.ts: each
// codec reads the other's.
describe.each([
  ['exec', 'igzip'],
  ['direct', 'zlib'],
  ['direct', 'igzip'],
] as const)('backup and restore over %s, gzip by %s', (transport, gzip) => {
  it('round-trips: backup, backups lists it verified, restore brings the counts back', async () => {
    const { engine } = engineFor(transport, gzip);
    const before = await w.fingerprint();
    const backedUp = await approveAndRun(engine, operator, 'backup');
    expect(backedUp.status, backedUp.summary).toBe('ok');
    const listed = await listBackups(w.config().backup);
    expect(listed[0]?.verified).toBe(true);
    expect(listed[0]?.meta?.counts).toEqual({ users: 1200 });
    expect(listed[0]?.meta?.transport).toBe(transport);
    // Piped straight into igzip, the SQL never passed through the bot, which can't tell its size.
    expect(listed[0]?.meta?.sqlBytes === undefined, 'SQL size unknown').toBe(transport === 'direct' && gzip === 'igzip');

    // Change the live database, then restore: the counts come back.
    await w.pg.psql('DELETE FROM api_keys; DELETE FROM users WHERE id > 100; INSERT INTO billing.invoices (amount) VALUES (1);');
    expect(await w.fingerprint()).not.toBe(before);
    const restored = await approveAndRun(engine, slackCaller(USERS.admin, CHANNELS.ops), `restore ${listed[0]?.name}`);
    expect(restored.status, restored.summary).toBe('ok');
    expect(await w.fingerprint()).toBe(before);
  });
});

describe('scheduled backups (schedule.runs)', () => {
  it('run once per tick across two replicas, with no Approve, audited as the schedule', async () => {
    const config = w.config({ transport: 'direct' });
    config.schedule.channel = CHANNELS.ops;
    config.schedule.runs = [{ name: 'nightly-backup', cron: '0 2 * * *', command: 'backup' }];
    const t = testEngine({ config, services: w.cluster.services });
    const store = new MemoryStore();
    const posts: Report[] = [];
    const now = Date.parse('2026-06-02T02:00:03Z');
    const replica = () => {
      const s = digestScheduler({
        config,
        store,
        kube: () => w.cluster.services.forCluster(undefined).kube(),
        isLeader: () => true,
        post: async () => undefined,
        runCommand: async (channel, run) => void posts.push(await t.engine.runScheduled(run.command, noIO(), channel)),
        signal: new AbortController().signal,
        now: () => now,
      });
      if (!('poll' in s)) throw new Error(s.reason);
      return s;
    };
    const before = (await listBackups(config.backup)).length;
    const [a, b] = [replica(), replica()];
    await Promise.all([a.poll(), b.poll()]);
    await Promise.all([a.poll(), b.poll()]);
    expect(await listBackups(config.backup)).toHaveLength(before + 1);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.status, posts[0]?.summary).toBe('ok');
    expect(posts[0]?.summary).toMatch(/^Backed up vlinders to s3:\/\/vlinders-backups\/postgres\/backup-\d{8}-\d{6}Z\.sql\.gz and verified it\.$/);
    const audit = t.log.audit().filter((l) => l.command === 'backup');
    expect(audit.map((l) => [l.user, l.event, l.outcome ?? l.detail])).toEqual([
      ['vlinders-ops schedule', 'invoke', 'scheduled'],
      ['vlinders-ops schedule', 'outcome', 'ok'],
    ]);
  });

  it('the monthly drill runs scheduled too: its plan picks the newest backup, and the scratch database is gone after', async () => {
    const t = testEngine({ config: w.config({ transport: 'direct' }), services: w.cluster.services });
    const report = await t.engine.runScheduled('restore-drill', noIO(), CHANNELS.ops);
    expect(report.status, report.summary).toBe('ok');
    expect(report.summary).toMatch(/backup-\d{8}-\d{6}Z\.sql\.gz/);
    expect((await w.pg.psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%drill%'")).trim()).toBe('0');
  });

  it('only schedulable commands: a restore, a prune or a typo are refused with the reason, and nothing runs', async () => {
    const t = testEngine({ config: w.config(), services: w.cluster.services });
    const before = await w.fingerprint();
    expect(() => t.engine.scheduled('restore backup-20261125-020000Z.sql.gz')).toThrow(/`restore` changes the platform and must be approved each time: it can't be scheduled \(schedulable: backup, restore-drill\)/);
    expect(() => t.engine.scheduled('backup prune')).toThrow(/`backup prune` changes the platform/);
    expect(() => t.engine.scheduled('bakup')).toThrow(/`bakup` is not a command\. Did you mean `backup`\?/);
    expect(() => t.engine.scheduled('backup --cluster nowhere')).toThrow(/nowhere/);
    expect(t.engine.scheduled('status').command.name).toBe('status'); // reads need no approval anyway
    const refused = await t.engine.runScheduled('restore backup-20261125-020000Z.sql.gz', noIO(), CHANNELS.ops);
    expect(refused).toMatchObject({ status: 'fail' });
    expect(refused.summary).toContain("can't be scheduled");
    expect(await w.fingerprint()).toBe(before);
  });
});
