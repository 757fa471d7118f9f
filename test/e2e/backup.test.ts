// Slack emulator → real Bolt → backup commands → the kube emulator's postgres-0 (real pg_dump/psql
// against the real PostgreSQL) and s3rver: backup, backups, a two-person restore, restore-drill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import { listBackups } from '../../src/backup/catalog.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { startBackupWorld, type BackupWorld } from '../backup/world.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

let w: BackupWorld;
let bot: BotHarness;
beforeAll(async () => {
  w = await startBackupWorld({ users: 640, bigRows: 20_000 });
  bot = await startBot({ config: w.config({ transport: 'exec' }), services: w.cluster.services });
}, 60_000);
afterAll(async () => {
  await bot?.close();
  await w?.close();
});

const finished = (m: RecordedMessage) => /^(✅|⚠️|❌)/.test(m.text);
const thread = (ts: string) =>
  bot.emu
    .threadOf(CHANNELS.ops, ts)
    .map((m) => [m.text, blocksText(m.blocks), ...m.updates.map((u) => u.text)].join('\n'))
    .join('\n');

async function approved(user: string, text: string, approver = user) {
  await bot.slash(user, CHANNELS.ops, text);
  const card = await bot.card(CHANNELS.ops);
  await bot.click(approver, CHANNELS.ops, card.message.ts, 'vlinders_approve');
  const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 30_000);
  const posted = thread(card.message.ts);
  expect(done.text, posted).toMatch(/^(✅|⚠️|❌)/);
  return { card, done, thread: posted };
}

describe('backups through Slack', () => {
  let name = '';

  it('backup: approved, progress in the thread, ✅ with the key, size and counts', async () => {
    const { card, done, thread: text } = await approved(USERS.operator, 'backup');
    expect(blocksText(card.message.blocks)).toContain('pg_dump of database vlinders on pod vlinders-platform/postgres-0 (kube exec)');
    expect(done.text).toMatch(/^✅/);
    expect(text).toMatch(/Backed up vlinders to s3:\/\/vlinders-backups\/postgres\/backup-\d{8}-\d{6}Z\.sql\.gz and verified it/);
    expect(text).toMatch(/users.*640/s);
    // Progress: bytes, rate, elapsed.
    expect(text).toMatch(/Backing up vlinders to s3:\/\/.*: [\d.]+ (KiB|MiB) \([\d.]+ (KiB|MiB) gzip\), [\d.]+ (KiB|MiB)\/s, \d+s elapsed/);
    expect(text).not.toContain(w.pg.password);
    name = /backup-\d{8}-\d{6}Z\.sql\.gz/.exec(text)?.[0] ?? '';
    expect(name).not.toBe('');
  });

  it('backups: lists it, verified, for a viewer', async () => {
    await bot.slash(USERS.viewer, CHANNELS.general, 'backups');
    const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.general && blocksText(m.blocks).includes(name)));
    const text = blocksText(message.blocks);
    expect(text).toContain('1 backup in s3://vlinders-backups/postgres/');
    expect(text).toContain('✅');
  });

  it('restore: the plan shows recorded and live counts; its requester can’t approve it; a second admin can', async () => {
    await w.pg.psql('DELETE FROM users WHERE id > 600');
    await bot.slash(USERS.admin, CHANNELS.ops, `restore ${name}`);
    const card = await bot.card(CHANNELS.ops);
    const plan = blocksText(card.message.blocks);
    expect(plan).toMatch(/users.*640.*600/s);
    await bot.click(USERS.admin, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const refusal = await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.admin));
    expect(refusal.text).toMatch(/second person/);
    expect(await w.pg.psql('SELECT count(*) FROM users')).toBe('600\n');

    await bot.click(USERS.approver, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    const done = await bot.emu.waitFor(() => (finished(card.message) ? card.message : undefined), 30_000);
    const text = thread(card.message.ts);
    expect(done.text, text).toMatch(/^✅/);
    expect(text).toMatch(/Safety backup of the previous state: postgres\/backup-/);
    expect(text).toMatch(/Restored vlinders from backup-.*checksum and row counts verified/);
    expect(await w.pg.psql('SELECT count(*) FROM users')).toBe('640\n');
  });

  it('restore-drill: passes, reports its duration, leaves no scratch database', async () => {
    const { done, thread: text } = await approved(USERS.operator, 'restore-drill');
    expect(done.text).toMatch(/^✅/);
    expect(text).toMatch(/Drill passed: .* restored into vlinders_drill in \d+s, row counts match, scratch database dropped/);
    expect((await w.pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'vlinders_drill'")).trim()).toBe('0');
  });
});

describe('a scheduled backup through Slack', () => {
  it('a root line in the channel, progress and the report in its thread, and the line updated with the outcome', async () => {
    const report = await bot.bot.runScheduled(CHANNELS.ops, { name: 'nightly-backup', command: 'backup' }, new Date('2026-06-02T02:00:00Z'));
    expect(report.status, report.summary).toBe('ok');
    const root = bot.emu.messages.find((m) => m.channel === CHANNELS.ops && m.text.includes('Scheduled run nightly-backup'));
    if (!root) throw new Error('no root line');
    expect(root.updates.at(-1)?.text).toMatch(/^✅ Scheduled run nightly-backup \(`backup`, 2026-06-02T02:00:00\.000Z\): done · [\d.]+ s$/);
    const text = thread(root.ts);
    expect(text).toMatch(/Backing up vlinders to s3:\/\/.*: [\d.]+ (KiB|MiB) \([\d.]+ (KiB|MiB) gzip\), [\d.]+ (KiB|MiB)\/s, \d+s elapsed/);
    expect(text).toMatch(/Backed up vlinders to s3:\/\/vlinders-backups\/postgres\/backup-\d{8}-\d{6}Z\.sql\.gz and verified it/);
    expect(text).not.toContain(w.pg.password);
    // Finished: the progress line carries the outcome, not ⏳.
    expect(bot.emu.threadOf(CHANNELS.ops, root.ts).filter((m) => m.text.startsWith('⏳'))).toEqual([]);
    expect(bot.emu.threadOf(CHANNELS.ops, root.ts).some((m) => m.text.startsWith('✅ Backing up vlinders'))).toBe(true);
  }, 60_000);

  it('a failed one ends ❌ and calls the on-call group: nobody asked for it, so nobody is waiting for it', async () => {
    const oncallBot = await startBot({ config: { ...w.config({ transport: 'exec' }), oncall: { group: 'S0ONCALL1' } }, services: w.cluster.services });
    const listed = await listBackups(w.config().backup);
    // The dump is whole; the manifest that would complete it fails: no backup may be left.
    w.s3.faults.failManifest = true;
    try {
      const report = await oncallBot.bot.runScheduled(CHANNELS.ops, { name: 'nightly-backup', command: 'backup' }, new Date('2026-06-03T02:00:00Z'));
      expect(report.status).toBe('fail');
      expect(report.summary).toMatch(/failed after the upload.*InternalError.*No backup was left behind/);
      expect(await listBackups(w.config().backup)).toEqual(listed);
      const root = oncallBot.emu.messages.find((m) => m.channel === CHANNELS.ops && m.text.includes('Scheduled run nightly-backup'));
      expect(root?.updates.at(-1)?.text).toMatch(/^❌ Scheduled run nightly-backup \(`backup`, 2026-06-03T02:00:00\.000Z\): failed · [\d.]+ s · <!subteam\^S0ONCALL1>$/);
    } finally {
      delete w.s3.faults.failManifest;
      await oncallBot.close();
    }
  }, 60_000);
});
