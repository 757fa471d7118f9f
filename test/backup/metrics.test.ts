// Backups report to the ops server's /metrics: a verified backup moves the last-success
// timestamp and the byte count; a failed one counts as a failure and moves neither, so the
// runbook's "newest backup too old" alert can be written in PromQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpsMetrics } from '../../src/http/metrics.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { slackCaller, testEngine } from '../fixtures/engine.js';
import { approveAndRun, startBackupWorld, type BackupWorld } from './world.js';

let w: BackupWorld;
beforeAll(async () => {
  w = await startBackupWorld({ users: 300, bigRows: 20_000 });
}, 60_000);
afterAll(async () => w?.close());

const sample = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('backup metrics', () => {
  it('a verified backup sets the last-success time and bytes; a failed one counts as fail only', async () => {
    const metrics = new OpsMetrics({ defaultMetrics: false });
    const { engine } = testEngine({ config: w.config({ transport: 'exec' }), services: w.cluster.services, metrics });
    const before = Date.now() / 1000;
    const ok = await approveAndRun(engine, slackCaller(USERS.operator, CHANNELS.ops), 'backup');
    expect(ok.status, ok.summary).toBe('ok');
    let text = await metrics.registry.metrics();
    const last = sample(text, 'vlinders_ops_last_successful_backup_timestamp_seconds');
    expect(last).toBeGreaterThanOrEqual(Math.floor(before));
    const bytes = sample(text, 'vlinders_ops_backup_bytes_total');
    expect(bytes).toBeGreaterThan(100_000);
    expect(text).toMatch(/vlinders_ops_backup_duration_seconds_count\{outcome="ok"\} 1/);

    w.pgFaults.killDumpAfterBytes = 200_000;
    try {
      const failed = await approveAndRun(engine, slackCaller(USERS.operator, CHANNELS.ops), 'backup');
      expect(failed.status).toBe('fail');
    } finally {
      delete w.pgFaults.killDumpAfterBytes;
    }
    text = await metrics.registry.metrics();
    expect(text).toMatch(/vlinders_ops_backup_duration_seconds_count\{outcome="fail"\} 1/);
    expect(sample(text, 'vlinders_ops_last_successful_backup_timestamp_seconds')).toBe(last);
    expect(sample(text, 'vlinders_ops_backup_bytes_total')).toBe(bytes);
  }, 120_000);
});
