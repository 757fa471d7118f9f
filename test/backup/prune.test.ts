// `backups` (age warning, old runbook form) and `backup prune` (the plan lists exactly what
// goes; the run deletes exactly that) against s3rver.
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupName, encodeMetadata } from '../../src/backup/catalog.js';
import { BackupBucket } from '../../src/backup/s3.js';
import { newestBackup } from '../../src/backup/index.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { startS3, useS3rverCredentials, type TestS3 } from '../tools/s3.js';

let s3: TestS3;
let bucket: BackupBucket;
const HOUR = 3_600_000;

function config() {
  const c = testConfig();
  c.backup = { ...c.backup, endpoint: s3.endpoint, forcePathStyle: true, bucket: s3.bucket };
  return c;
}

async function put(name: string, verified = true) {
  const body = Buffer.from(`not really gzip ${name}`);
  const metadata = verified
    ? encodeMetadata({ sha256: 'a'.repeat(64), bytes: body.length, sqlBytes: 100, counts: { users: 5 }, database: 'vlinders', transport: 'exec', startedAt: '', finishedAt: '', reason: 'manual' })
    : undefined;
  await bucket.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `postgres/${name}`, Body: body, Metadata: metadata }));
}

async function keys(): Promise<string[]> {
  const out = await bucket.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

beforeAll(async () => {
  useS3rverCredentials();
  s3 = await startS3();
  bucket = new BackupBucket(config().backup);
});
afterAll(async () => s3?.stop());

describe('backups', () => {
  it('with none, warns', async () => {
    const { engine } = testEngine({ config: config() });
    const out = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', noIO());
    expect(out.kind === 'report' && out.report.status).toBe('warn');
    expect(out.kind === 'report' && out.report.summary).toContain('No backups in s3://vlinders-backups/postgres/');
  });

  it('lists newest first, and warns when the newest is older than maxAgeHours', async () => {
    await put(backupName(new Date(Date.now() - 30 * HOUR)));
    // More than 24 h from the 30 h one: each on its own UTC day at any time of day (prune keeps one a day).
    await put(backupName(new Date(Date.now() - 56 * HOUR)), false);
    await put('backup-20240105.sql', false);
    await put('notes.txt', false);
    const { engine } = testEngine({ config: config() });
    const out = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', noIO());
    if (out.kind !== 'report') throw new Error(JSON.stringify(out));
    expect(out.report.status).toBe('warn');
    expect(out.report.summary).toMatch(/^3 backups in s3:\/\/vlinders-backups\/postgres\/; the newest is 30h00m old ⚠️ older than 26 h/);
    const rows = out.report.sections?.[0]?.rows ?? [];
    expect(rows.map((r) => r[3])).toEqual(['✅', '❌', '— (old runbook dump)']);
    expect((await newestBackup(config().backup))?.verified).toBe(true);

    await put(backupName(new Date(Date.now() - 2 * HOUR)));
    const fresh = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', noIO());
    expect(fresh.kind === 'report' && fresh.report.status).toBe('ok');
  });
});

describe('backup prune', () => {
  it('shows exactly what goes, and deletes exactly that', async () => {
    const day = 24 * HOUR;
    const old = [10, 20, 40, 60, 90].map((ageDays) => backupName(new Date(Date.now() - ageDays * day)));
    for (const name of old) await put(name);
    const c = config();
    // 4 calendar days always hold the 2 h, 30 h and 56 h ones; one ISO week never reaches 10 days back.
    c.backup.retention = { daily: 4, weekly: 1 };
    const { engine } = testEngine({ config: c });
    const operator = slackCaller(USERS.operator, CHANNELS.ops);
    const asked = await engine.invoke(operator, 'backup prune', noIO());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    const deleted = asked.plan.sections?.find((s) => s.title === 'Deleted')?.lines ?? [];
    const names = deleted.map((l) => /`([^`]+)`/.exec(l)?.[1] ?? '');
    expect(names.sort()).toEqual([...old, 'backup-20240105.sql'].sort());
    expect(asked.plan.summary).toMatch(/^Deletes 6 of 9 backups/);
    const before = await keys();
    // A new object appearing after the plan is not deleted: only what was shown.
    const late = backupName(new Date(Date.now() - 400 * day));
    await put(late);
    const decided = await engine.decide(asked.action.id, slackCaller(USERS.approver, CHANNELS.ops), 'approve');
    if (decided.kind !== 'approved') throw new Error(JSON.stringify(decided));
    const report = await engine.execute(decided.action, decided.command, noIO(), 'slack');
    expect(report.status).toBe('ok');
    const after = await keys();
    expect(after).toEqual([...before.filter((k) => !names.includes(k.replace('postgres/', ''))), `postgres/${late}`].sort());
  });
});
