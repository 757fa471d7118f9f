// Issue 13, item 1: "verified" means "written by this bot". Each backup's manifest, uploaded
// after the object, carries an HMAC-SHA256 (key: the backup.signingSecret Secret) over its name,
// metadata and sha256. restore and restore-drill refuse what the bot did not sign, naming why;
// `restore --unsigned` (two people) takes one anyway; the drill, scheduled or not, never does.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups, type BackupMetadata } from '../../src/backup/catalog.js';
import { BackupBucket } from '../../src/backup/s3.js';
import { checkManifest, manifestKey, signedManifest } from '../../src/backup/signing.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { approveAndRun as runApproved, noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { approveAndRun, startBackupWorld, type BackupWorld } from '../backup/world.js';

let w: BackupWorld;
let bucket: BackupBucket;
let signed: { key: string; name: string; meta: BackupMetadata };
let before: string;
/** The backup's writes to S3 (PUT and POST, without their query). */
let writes: string[];

const admin = slackCaller(USERS.admin, CHANNELS.ops);
const operator = slackCaller(USERS.operator, CHANNELS.ops);
const io = () => ({ progress: async () => undefined, signal: new AbortController().signal });
const engine = () => testEngine({ config: w.config({ transport: 'exec' }), services: w.cluster.services }).engine;

beforeAll(async () => {
  w = await startBackupWorld({ users: 70, bigRows: 30 });
  bucket = new BackupBucket(w.config().backup);
  const requests = w.s3.requests.length;
  const report = await approveAndRun(engine(), operator, 'backup');
  expect(report.status, report.summary).toBe('ok');
  const entry = (await listBackups(w.config().backup))[0];
  if (!entry?.meta) throw new Error('no backup');
  signed = { key: entry.key, name: entry.name, meta: entry.meta };
  // The manifest is the backup's last write: a backup whose manifest is missing is not whole.
  writes = w.s3.requests.slice(requests).filter((r) => /^(PUT|POST)/.test(r)).map((r) => r.split('?')[0] ?? '');
  expect(writes.at(-1)).toBe(`PUT /${w.s3.bucket}/${manifestKey(entry.key)}`);
  before = await w.fingerprint();
}, 60_000);
afterAll(async () => w?.close());

/** A copy of the signed backup under `name`, its manifest made by `manifest` (none when undefined). */
async function copyOf(name: string, manifest?: (meta: BackupMetadata) => Promise<string> | string): Promise<string> {
  await bucket.client.send(new CopyObjectCommand({ Bucket: bucket.bucket, Key: `postgres/${name}`, CopySource: `${bucket.bucket}/${signed.key}` }));
  if (manifest) await bucket.put(manifestKey(`postgres/${name}`), await manifest(signed.meta));
  return name;
}

const refusal = async (text: string, who = admin) => {
  const outcome = await engine().invoke(who, text, io());
  expect(outcome.kind, text).toBe('report');
  return outcome.kind === 'report' ? `${outcome.report.status}: ${outcome.report.summary}` : '';
};

describe('the manifest', () => {
  it('verifies with the key in the Secret and with no other; names the backup it belongs to', async () => {
    const text = await bucket.getText(manifestKey(signed.key));
    expect(JSON.parse(text)).toMatchObject({ version: 1, backup: signed.name, metadata: { sha256: signed.meta.sha256 } });
    expect(checkManifest(await w.signingKey(), signed.name, text)).toEqual({ ok: true, meta: signed.meta });
    expect(checkManifest(randomBytes(32), signed.name, text)).toMatchObject({ ok: false, why: expect.stringMatching(/signature does not match/) as string });
    expect(checkManifest(await w.signingKey(), 'backup-20200101-000000Z.sql.gz', text)).toMatchObject({ ok: false, why: expect.stringMatching(/belongs to another backup/) as string });
    // Any field changed breaks it: the sha256 (what ties it to the bytes), a count, the database.
    for (const change of [{ sha256: 'b'.repeat(64) }, { counts: '{"users":1}' }, { database: 'other' }]) {
      const forged = JSON.parse(text) as { metadata: Record<string, string> };
      Object.assign(forged.metadata, change);
      expect(checkManifest(await w.signingKey(), signed.name, JSON.stringify(forged)).ok, JSON.stringify(change)).toBe(false);
    }
  });
});

describe('restore refuses what the bot did not sign, naming why', () => {
  it('no manifest: the dump alone, as a backup that died before its manifest leaves it', async () => {
    const name = await copyOf('backup-20250101-000000Z.sql.gz');
    expect((await listBackups(w.config().backup)).find((e) => e.name === name)).toMatchObject({ state: 'incomplete', verified: false, meta: undefined });
    const text = await refusal(`restore ${name}`);
    expect(text).toMatch(/^fail: Refused: backup-20250101-000000Z\.sql\.gz is not signed by this bot: it has no manifest backup-20250101-000000Z\.sql\.gz\.manifest\.json \(this dump never got it: the backup did not finish\)\. Nothing was done\. If you trust where it came from, `restore backup-20250101-000000Z\.sql\.gz --unsigned`/);
  });

  it('a manifest whose counts were changed after signing', async () => {
    const name = await copyOf('backup-20250102-000000Z.sql.gz', async (meta) => {
      const m = JSON.parse(signedManifest(await w.signingKey(), 'backup-20250102-000000Z.sql.gz', meta)) as { metadata: Record<string, string> };
      m.metadata.counts = '{"users":1}';
      return JSON.stringify(m);
    });
    expect(await refusal(`restore ${name}`)).toMatch(/not signed by this bot: its signature does not match: the manifest was changed, or signed with another key/);
  });

  it('a manifest signed with another key', async () => {
    const name = await copyOf('backup-20250103-000000Z.sql.gz', (meta) => signedManifest(randomBytes(32), 'backup-20250103-000000Z.sql.gz', meta));
    expect(await refusal(`restore ${name}`)).toMatch(/its signature does not match/);
  });

  it("another backup's manifest, moved beside it", async () => {
    const name = await copyOf('backup-20250104-000000Z.sql.gz', () => bucket.getText(manifestKey(signed.key)));
    expect(await refusal(`restore ${name}`)).toMatch(/its manifest belongs to another backup/);
  });

  it('an old runbook dump', async () => {
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: 'postgres/backup-20240105.sql', Body: 'SELECT 1;\n' }));
    expect(await refusal('restore backup-20240105.sql')).toMatch(/not signed by this bot: it is an old runbook dump \(plain SQL\), which has no manifest/);
  });

  it('the object replaced under a valid manifest: the signed checksum refuses it before the database is touched', async () => {
    const name = 'backup-20250105-000000Z.sql.gz';
    await copyOf(name, async (meta) => signedManifest(await w.signingKey(), name, meta));
    const sql = '--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.pwned (id int);\n\n--\n-- PostgreSQL database dump complete\n--\n\n';
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: `postgres/${name}`, Body: gzipSync(sql), Metadata: (await bucket.head(signed.key)).metadata }));
    const report = await approveAndRun(engine(), admin, `restore ${name}`);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(/does not match its recorded checksum/);
    expect(await w.fingerprint()).toBe(before);
  });

  it('a manifest changed between the plan and the approval: refused at the run', async () => {
    const name = await copyOf('backup-20250108-000000Z.sql.gz', async (meta) => signedManifest(await w.signingKey(), 'backup-20250108-000000Z.sql.gz', meta));
    const t = testEngine({ config: w.config({ transport: 'exec' }), services: w.cluster.services });
    const outcome = await runApproved(t.engine, admin, `restore ${name}`, io(), {
      approver: slackCaller(USERS.approver, CHANNELS.ops),
      beforeApprove: async () => bucket.put(manifestKey(`postgres/${name}`), signedManifest(randomBytes(32), name, signed.meta)),
    });
    expect(outcome.kind === 'report' && outcome.ran).toBe(true);
    expect(JSON.stringify(outcome)).toMatch(/Refused: backup-20250108-000000Z\.sql\.gz is not signed by this bot: its signature does not match/);
    expect(await w.fingerprint()).toBe(before);
  });

  it('--unsigned restores one anyway, and its requester alone can’t approve it', async () => {
    const name = await copyOf('backup-20250106-000000Z.sql.gz');
    const t = testEngine({ config: w.config({ transport: 'exec' }), services: w.cluster.services });
    const asked = await t.engine.invoke(admin, `restore ${name} --unsigned`, io());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    expect(JSON.stringify(asked.plan)).toMatch(/--unsigned: backup-20250106-000000Z\.sql\.gz is not signed by this bot \(it has no manifest/);
    const self = await t.engine.decide(asked.action.id, admin, 'approve');
    expect(self.kind).toBe('refused');
    const restored = await approveAndRun(t.engine, admin, `restore ${name} --unsigned`);
    // Restored, but nothing vouches for a checksum or counts without the manifest.
    expect(restored.status, restored.summary).toBe('warn');
    expect(restored.summary).toMatch(/^Restored vlinders from backup-20250106-000000Z\.sql\.gz in \d+s \(unverified backup: no checksum or counts to check\)/);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe('restore-drill never takes an unsigned backup', () => {
  it('named: refused, naming why, at the plan (never offered for approval) and at the run', async () => {
    const name = await copyOf('backup-20250107-000000Z.sql.gz');
    expect(await refusal(`restore-drill ${name}`, operator)).toMatch(/^fail: Refused: backup-20250107-000000Z\.sql\.gz is not signed by this bot/);
    const report = await approveAndRun(engine(), operator, `restore-drill ${name}`);
    expect(report.status).toBe('fail');
    expect(report.summary).toMatch(/Refused: backup-20250107-000000Z\.sql\.gz is not signed by this bot: it has no manifest.*The drill only takes backups this bot signed/);
  });

  it('a manifest changed between the plan and the approval: refused at the run', async () => {
    const name = await copyOf('backup-20250109-000000Z.sql.gz', async (meta) => signedManifest(await w.signingKey(), 'backup-20250109-000000Z.sql.gz', meta));
    const t = testEngine({ config: w.config({ transport: 'exec' }), services: w.cluster.services });
    const outcome = await runApproved(t.engine, operator, `restore-drill ${name}`, io(), {
      approver: slackCaller(USERS.approver, CHANNELS.ops),
      beforeApprove: async () => bucket.delete(manifestKey(`postgres/${name}`)),
    });
    expect(outcome.kind === 'report' && outcome.ran).toBe(true);
    expect(JSON.stringify(outcome)).toMatch(/Refused: backup-20250109-000000Z\.sql\.gz is not signed by this bot: it has no manifest/);
    await bucket.delete(`postgres/${name}`);
  });

  it('scheduled: a newer unsigned or badly signed object is passed over for the newest signed backup', async () => {
    const future = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z').replace('T', '-');
    const unsigned = await copyOf(`backup-${future(2)}.sql.gz`);
    const forged = await copyOf(`backup-${future(3)}.sql.gz`, (meta) => signedManifest(randomBytes(32), `backup-${future(3)}.sql.gz`, meta));
    const newest = (await listBackups(w.config().backup)).slice(0, 2).map((e) => e.name);
    expect(newest).toEqual([forged, unsigned]);
    const config = w.config({ transport: 'exec' });
    config.schedule.channel = CHANNELS.ops;
    config.schedule.runs = [{ name: 'monthly-drill', cron: '0 3 1 * *', command: 'restore-drill' }];
    const t = testEngine({ config, services: w.cluster.services });
    const report = await t.engine.runScheduled('restore-drill', noIO(), CHANNELS.ops);
    expect(report.status, report.summary).toBe('ok');
    expect(report.summary).not.toContain(forged);
    expect(report.summary).not.toContain(unsigned);
    expect(report.summary).toMatch(/^Drill passed: backup-\d{8}-\d{6}Z\.sql\.gz restored/);
    await bucket.delete(`postgres/${unsigned}`);
    await bucket.delete(`postgres/${forged}`);
    await bucket.delete(manifestKey(`postgres/${forged}`));
  });

  it('with no signed backup at all, refuses', async () => {
    const saved = await bucket.getText(manifestKey(signed.key));
    const safetyOnes = (await listBackups(w.config().backup)).filter((e) => e.meta?.reason === 'safety');
    for (const e of safetyOnes) await bucket.delete(manifestKey(e.key));
    await bucket.delete(manifestKey(signed.key));
    try {
      const t = testEngine({ config: w.config({ transport: 'exec' }), services: w.cluster.services });
      const report = await t.engine.runScheduled('restore-drill', noIO(), CHANNELS.ops);
      expect(report.status).toBe('fail');
      expect(report.summary).toMatch(/There is no backup signed by this bot in s3:\/\/vlinders-backups\/postgres\/ to drill with/);
    } finally {
      await bucket.put(manifestKey(signed.key), saved);
    }
  });
});

describe('the signing key', () => {
  it('a backup without the Secret fails, naming it; nothing is uploaded', async () => {
    const config = w.config({ transport: 'exec' });
    config.backup.signingSecret = { name: 'no-such-secret', key: 'key' };
    const t = testEngine({ config, services: w.cluster.services });
    const count = (await listBackups(config.backup)).length;
    const report = await approveAndRun(t.engine, operator, 'backup');
    expect(report.status).toBe('fail');
    expect(report.summary).toMatch(/no-such-secret/);
    expect(await listBackups(config.backup)).toHaveLength(count);
  });

  it('signs the recorded metadata; the object itself carries only what was known at its start', async () => {
    const head = await bucket.head(signed.key);
    expect(head.metadata).toEqual({ 'written-by': 'vlinders-ops', 'started-at': signed.meta.startedAt, reason: 'manual' });
    expect(head.size).toBe(signed.meta.bytes);
  });
});

describe('the dump streams straight to its final key; the manifest, last, completes it', () => {
  it('writes nothing but the dump (one multipart upload, or one PUT) at its final key, then the manifest: no staging key, no server-side copy', async () => {
    const dumpWrites = writes.slice(0, -1);
    expect(dumpWrites.length).toBeGreaterThan(0);
    expect(new Set(dumpWrites.map((r) => r.replace(/^(PUT|POST) /, '')))).toEqual(new Set([`/${w.s3.bucket}/${signed.key}`]));
    expect(w.s3.requests.some((r) => r.includes('.incoming'))).toBe(false);
  });

  it('a manifest that is not one (empty, here) is no ✅ either, and says why', async () => {
    const name = await copyOf('backup-20250111-000000Z.sql.gz', () => '');
    try {
      const listed = await engine().invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', io());
      if (listed.kind !== 'report') throw new Error(JSON.stringify(listed));
      expect(listed.report.sections?.[0]?.rows?.find((r) => r[0] === name)?.[3]).toBe('❌ (its manifest is not JSON)');
    } finally {
      await Promise.all([bucket.delete(`postgres/${name}`), bucket.delete(manifestKey(`postgres/${name}`))]);
    }
  });

  it('`backups` checks the signature: a manifest signed with another key is ❌ naming why, the bot’s own ✅', async () => {
    const name = await copyOf('backup-20250112-000000Z.sql.gz', (meta) => signedManifest(randomBytes(32), 'backup-20250112-000000Z.sql.gz', meta));
    try {
      const listed = await engine().invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', io());
      if (listed.kind !== 'report') throw new Error(JSON.stringify(listed));
      const rows = listed.report.sections?.[0]?.rows;
      expect(rows?.find((r) => r[0] === name)?.[3]).toMatch(/^❌ \(its signature does not match/);
      expect(rows?.find((r) => r[0] === signed.name)?.[3]).toBe('✅');
      // Without the key nothing is ✅: the column and a line say the signatures were not checked.
      const config = w.config({ transport: 'exec' });
      config.backup.signingSecret = { name: 'no-such-secret', key: 'key' };
      const keyless = await testEngine({ config, services: w.cluster.services }).engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', io());
      if (keyless.kind !== 'report') throw new Error(JSON.stringify(keyless));
      expect(keyless.report.sections?.[0]?.rows?.find((r) => r[0] === signed.name)?.[3]).toBe('☑️ (manifest agrees; signature not checked)');
      expect(keyless.report.sections?.[1]?.lines?.[0]).toMatch(/^Signatures not checked: .*no-such-secret/);
    } finally {
      await Promise.all([bucket.delete(`postgres/${name}`), bucket.delete(manifestKey(`postgres/${name}`))]);
    }
  });

  it('a dump without its manifest is never restorable: `backups` marks it incomplete, not ✅, and prune removes it', async () => {
    const name = await copyOf('backup-20250110-000000Z.sql.gz');
    try {
      const listed = await engine().invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', io());
      if (listed.kind !== 'report') throw new Error(JSON.stringify(listed));
      const row = listed.report.sections?.[0]?.rows?.find((r) => r[0] === name);
      expect(row?.[3]).toMatch(/^❌ incomplete \(no manifest: failed or still finishing; `backup prune` removes it\)$/);
      expect(listed.report.sections?.[0]?.rows?.find((r) => r[0] === signed.name)?.[3]).toBe('✅');
      const prune = await engine().invoke(operator, 'backup prune', io());
      if (prune.kind !== 'confirm') throw new Error(JSON.stringify(prune));
      expect(prune.plan.sections?.find((s) => s.title?.startsWith('Deleted: incomplete'))?.lines).toContainEqual(expect.stringContaining(`\`${name}\``));
      expect(JSON.stringify(prune.plan.sections?.find((s) => s.title === 'Kept'))).toContain(signed.name);
    } finally {
      await bucket.delete(`postgres/${name}`);
    }
  });
});
