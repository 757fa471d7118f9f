// backup → backups → restore round trips and every injected fault, driven through the engine
// (the Slack path is in test/e2e/backup.test.ts). Real PostgreSQL, real pg_dump/psql (in the
// emulated postgres-0 for `exec`, on this machine for `direct`), s3rver for S3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../src/backup/index.js';
import { USERS, CHANNELS } from '../fixtures/world.js';
import { slackCaller, testEngine } from '../fixtures/engine.js';
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

// Each transport with one of the two gzip codecs (test/backup/gzip.test.ts: each reads the other's).
describe.each([
  ['exec', 'igzip'],
  ['direct', 'zlib'],
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

    // Change the live database, then restore: the counts come back.
    await w.pg.psql('DELETE FROM api_keys; DELETE FROM users WHERE id > 100; INSERT INTO billing.invoices (amount) VALUES (1);');
    expect(await w.fingerprint()).not.toBe(before);
    const restored = await approveAndRun(engine, slackCaller(USERS.admin, CHANNELS.ops), `restore ${listed[0]?.name}`);
    expect(restored.status, restored.summary).toBe('ok');
    expect(await w.fingerprint()).toBe(before);
  });
});
