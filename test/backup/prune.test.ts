// `backups` (age warning, old runbook form, incomplete dumps) and `backup prune` (the plan lists
// exactly what goes; the run deletes exactly that, but an incomplete dump that completed since)
// against s3rver.
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { backupName, encodeMetadata, manifestKey, WRITTEN_BY } from '../../src/backup/catalog.js';
import { signedManifest } from '../../src/backup/signing.js';
import { BackupBucket } from '../../src/backup/s3.js';
import { newestBackup } from '../../src/backup/index.js';
import { s3BackupListing } from '../../src/digest/backup-listing.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { startS3, useS3rverCredentials, type TestS3 } from '../tools/s3.js';

let s3: TestS3;
let bucket: BackupBucket;
const HOUR = 3_600_000;
/** Incomplete dumps the listing test puts and the prune test expects (named once: a second may pass between). */
const fiftySixHours = backupName(new Date(Date.now() - 56 * HOUR));
const oneHour = backupName(new Date(Date.now() - 1 * HOUR));

function config() {
  const c = testConfig();
  c.backup = { ...c.backup, endpoint: s3.endpoint, forcePathStyle: true, bucket: s3.bucket };
  return c;
}

/**
 * complete: the bot's dump and its manifest; incomplete: the bot's dump alone (its manifest never
 * came); foreign: an object without the bot's metadata (the runbook's, or put by hand).
 */
async function put(name: string, kind: 'complete' | 'incomplete' | 'foreign' = 'complete') {
  const body = Buffer.from(`not really gzip ${name}`);
  const key = `postgres/${name}`;
  await bucket.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, Metadata: kind === 'foreign' ? undefined : { ...WRITTEN_BY } }));
  if (kind === 'complete') await completeIt(name, body.length);
}

/** Its manifest, signed with a key of its own: prune and the digests read metadata, not signatures. */
async function completeIt(name: string, bytes = Buffer.byteLength(`not really gzip ${name}`)) {
  const meta = { sha256: 'a'.repeat(64), bytes, sqlBytes: 100, counts: { users: 5 }, database: 'vlinders', transport: 'exec', startedAt: '', finishedAt: '', reason: 'manual' };
  await bucket.put(manifestKey(`postgres/${name}`), signedManifest(randomBytes(32), name, meta));
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

  it('lists newest first, and warns when the newest is older than maxAgeHours; an incomplete dump is no backup', async () => {
    const thirtyHours = backupName(new Date(Date.now() - 30 * HOUR));
    await put(thirtyHours);
    // More than 24 h from the 30 h one: each on its own UTC day at any time of day (prune keeps one a day).
    await put(fiftySixHours, 'incomplete');
    await put('backup-20240105.sql', 'foreign');
    await put('notes.txt', 'foreign');
    // The newest dump never got its manifest: it is not the newest backup.
    await put(oneHour, 'incomplete');
    const { engine } = testEngine({ config: config() });
    const out = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', noIO());
    if (out.kind !== 'report') throw new Error(JSON.stringify(out));
    expect(out.report.status).toBe('warn');
    expect(out.report.summary).toMatch(/^2 backups in s3:\/\/vlinders-backups\/postgres\/ \(and 2 incomplete: no manifest\); the newest is 30h00m old ⚠️ older than 26 h/);
    const rows = out.report.sections?.[0]?.rows ?? [];
    expect(rows.map((r) => r[3])).toEqual([
      expect.stringMatching(/^❌ incomplete \(no manifest/),
      // No cluster here, so no signing Secret: the manifest agrees, its signature is unchecked.
      '☑️ (manifest agrees; signature not checked)',
      expect.stringMatching(/^❌ incomplete \(no manifest/),
      '— (old runbook dump)',
    ]);
    expect(rows[1]?.[4]).toBe('users 5');
    expect((await newestBackup(config().backup))?.verified).toBe(true);
    // The digests' newest backup is the same one, not the newer incomplete dump.
    expect((await s3BackupListing(config().backup).list({ limit: 1 })).map((e) => e.name)).toEqual([thirtyHours]);

    await put(backupName(new Date(Date.now() - 2 * HOUR)));
    const fresh = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', noIO());
    expect(fresh.kind === 'report' && fresh.report.status).toBe('ok');
  });
});

describe('backup prune', () => {
  it("shows exactly what goes, and deletes exactly that, with the manifests; incomplete dumps past the grace period too, never someone else's", async () => {
    const day = 24 * HOUR;
    const old = [10, 20, 40, 60, 90].map((ageDays) => backupName(new Date(Date.now() - ageDays * day)));
    for (const name of old) await put(name);
    // An incomplete dump that gets its manifest between the plan and the run: a backup after all.
    const completing = backupName(new Date(Date.now() - 15 * day));
    await put(completing, 'incomplete');
    // A dump someone put there by hand, in the bot's name form but without its metadata.
    const handMade = backupName(new Date(Date.now() - 100 * day));
    await put(handMade, 'foreign');
    // The bot's from before manifests: whole (checksum metadata on the object), unsigned, the bot's: under the retention policy.
    const legacy = backupName(new Date(Date.now() - 25 * day));
    const legacyBody = Buffer.from('not really gzip, from before manifests');
    const legacyMeta = encodeMetadata({ sha256: 'b'.repeat(64), bytes: legacyBody.length, sqlBytes: 100, counts: { users: 5 }, database: 'vlinders', transport: 'exec', startedAt: '', finishedAt: '', reason: 'manual' });
    await bucket.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `postgres/${legacy}`, Body: legacyBody, Metadata: legacyMeta }));
    const c = config();
    // 4 calendar days always hold the 2 h and 30 h ones; one ISO week never reaches 10 days back.
    c.backup.retention = { daily: 4, weekly: 1 };
    const { engine } = testEngine({ config: c });
    const operator = slackCaller(USERS.operator, CHANNELS.ops);
    const asked = await engine.invoke(operator, 'backup prune', noIO());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    const section = (title: RegExp) => (asked.plan.sections?.find((s) => title.test(s.title ?? ''))?.lines ?? []).map((l) => /`([^`]+)`/.exec(l)?.[1] ?? '').sort();
    expect(section(/^Deleted$/)).toEqual([...old, legacy].sort());
    // The 56 h one is past the grace period (timeoutMinutes 240 + 60); the 1 h one may still be being written.
    expect(section(/^Deleted: incomplete/)).toEqual([completing, fiftySixHours].sort());
    expect(section(/^Left: incomplete but younger than 5h00m/)).toEqual([oneHour]);
    expect(section(/^Left alone: not written by this bot/)).toEqual([handMade, 'backup-20240105.sql'].sort());
    expect(asked.plan.summary).toMatch(/^Deletes 6 of 8 backups .* Also deletes 2 incomplete dumps \(no manifest\), unless the manifest appears by the run\./);
    const before = await keys();
    // A new object appearing after the plan is not deleted: only what was shown.
    const late = backupName(new Date(Date.now() - 400 * day));
    await put(late);
    await completeIt(completing);
    const decided = await engine.decide(asked.action.id, slackCaller(USERS.approver, CHANNELS.ops), 'approve');
    if (decided.kind !== 'approved') throw new Error(JSON.stringify(decided));
    const listed = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', noIO());
    expect(listed.kind === 'report' && listed.report.sections?.[0]?.rows?.find((r) => r[0] === legacy)?.[3]).toBe('— (unsigned: from before manifests)');
    expect(listed.kind === 'report' && listed.report.sections?.[0]?.rows?.find((r) => r[0] === handMade)?.[3]).toBe('— (no manifest: not written by this bot)');
    const report = await engine.execute(decided.action, decided.command, noIO(), 'slack');
    expect(report.status, report.summary).toBe('ok');
    expect(report.summary).toContain(`Kept 1 that got its manifest since the plan: \`postgres/${completing}\``);
    const gone = [...old.flatMap((n) => [`postgres/${n}`, manifestKey(`postgres/${n}`)]), `postgres/${fiftySixHours}`, `postgres/${legacy}`];
    const after = await keys();
    expect(after).toEqual([...before.filter((k) => !gone.includes(k)), `postgres/${late}`, manifestKey(`postgres/${late}`), manifestKey(`postgres/${completing}`)].sort());
    expect(after).toContain(`postgres/${oneHour}`);
  });
});
