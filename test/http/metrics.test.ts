// /metrics counts commands: real audit records from the real engine (wired as production
// wires it, with the metrics as its audit mirror), scraped over HTTP from the ops server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App, LogLevel } from '@slack/bolt';
import { LogLevel as WebLogLevel, WebClient } from '@slack/web-api';
import { commands } from '../../commands/index.js';
import type { AuditRecord } from '../../src/core/audit.js';
import { fixedClusters } from '../../src/kube/directory.js';
import { OpsMetrics, auditToMetrics, meteredAuditMirror, meteredSlackFetch } from '../../src/http/metrics.js';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { buildEngine } from '../../src/wiring.js';
import { testCommands } from '../fixtures/commands.js';
import { noIO, slackCaller } from '../fixtures/engine.js';
import { CHANNELS, USERS, testConfig, MANIFEST_SCOPES, seedConversations } from '../fixtures/world.js';
import { scrape, testLogger, valueOf } from './helpers.js';

const ready = async () => ({ ready: true, checks: {} });
const ops = (user: string) => slackCaller(user, CHANNELS.ops);

let servers: OpsServer[] = [];
async function serve(metrics: OpsMetrics): Promise<OpsServer> {
  const server = await startOpsServer({ port: 0, metrics, readiness: ready });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

function meteredEngine(metrics: OpsMetrics, mirrored: AuditRecord[] = []) {
  const { log } = testLogger();
  return buildEngine({
    config: testConfig(),
    commands: [...commands, ...testCommands({ runs: [] })],
    log,
    services: fixedClusters([]),
    groupMembers: async () => [],
    // As main.ts wires it: metrics first, then the audit channel's mirror.
    auditMirror: meteredAuditMirror(metrics, async (record) => void mirrored.push(record)),
  });
}

describe('/metrics: commands, from the engine audit', () => {
  it('counts commands by name and outcome, with durations, and denials', async () => {
    const metrics = new OpsMetrics();
    const mirrored: AuditRecord[] = [];
    const engine = meteredEngine(metrics, mirrored);
    const server = await serve(metrics);

    const before = await scrape(server);
    expect(before.status).toBe(200);
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(before.samples, 'vlinders_ops_commands_total')).toBeUndefined();

    // A read command, twice.
    expect((await engine.invoke(ops(USERS.viewer), 'test-lines 2', noIO())).kind).toBe('report');
    expect((await engine.invoke(ops(USERS.viewer), 'test-lines 3', noIO())).kind).toBe('report');
    // A change: planned, approved, executed; the outcome is recorded when it ran.
    const planned = await engine.invoke(ops(USERS.operator), 'test-change 4', noIO());
    if (planned.kind !== 'confirm') throw new Error(`expected a confirmation, got ${planned.kind}`);
    const decision = await engine.decide(planned.action.id, ops(USERS.operator), 'approve');
    if (decision.kind !== 'approved') throw new Error(`expected approval, got ${decision.kind}`);
    expect((await engine.execute(decision.action, decision.command, noIO(), 'slack')).status).toBe('ok');
    // A viewer may not change anything: a denial, not an outcome.
    expect((await engine.invoke(ops(USERS.viewer), 'test-change 1', noIO())).kind).toBe('error');
    // A command that fails against an unreachable API.
    await engine.invoke(ops(USERS.viewer), 'test-unreachable', noIO());
    // Typos and usage errors are not commands that ran.
    await engine.invoke(ops(USERS.viewer), 'no-such-command', noIO());
    await engine.invoke(ops(USERS.operator), 'test-change eleven', noIO());

    const { samples, text } = await scrape(server);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'test-lines', outcome: 'ok' })).toBe(2);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'test-change', outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'test-unreachable', outcome: 'fail' })).toBe(1);
    expect(samples.filter((s) => s.name === 'vlinders_ops_commands_total').reduce((n, s) => n + s.value, 0)).toBe(4);
    expect(valueOf(samples, 'vlinders_ops_denials_total', { command: 'test-change' })).toBe(1);
    expect(valueOf(samples, 'vlinders_ops_command_duration_seconds_count', { command: 'test-lines' })).toBe(2);
    expect(valueOf(samples, 'vlinders_ops_command_duration_seconds_bucket', { command: 'test-lines', le: '+Inf' })).toBe(2);
    expect(valueOf(samples, 'vlinders_ops_command_duration_seconds_count', { command: 'test-change' })).toBe(1);
    expect(text).toContain('# TYPE vlinders_ops_command_duration_seconds histogram');
    // The audit channel still gets every record after the metrics have seen it.
    expect(mirrored.map((r) => r.event)).toEqual(expect.arrayContaining(['invoke', 'outcome', 'deny', 'usage_error', 'approve', 'confirm_requested']));
  });

  it('an engine without a next mirror still counts; other events and bad labels are bounded', async () => {
    const metrics = new OpsMetrics({ defaultMetrics: false });
    const observe = auditToMetrics(metrics);
    const base = { user: 'U1', channel: 'C1', surface: 'cli' } as const;
    observe({ ...base, event: 'invoke', command: 'status' });
    observe({ ...base, event: 'outcome', command: 'status', outcome: 'warn', durationMs: 1500 });
    observe({ ...base, event: 'outcome', command: 'status', outcome: 'refused' });
    observe({ ...base, event: 'outcome', command: 'status', outcome: 'exploded' });
    observe({ ...base, event: 'outcome', command: 'Robert"); DROP', outcome: 'ok' });
    observe({ ...base, event: 'usage_error', detail: 'unknown command x' });
    const server = await serve(metrics);
    const { samples } = await scrape(server);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'status', outcome: 'warn' })).toBe(1);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'status', outcome: 'refused' })).toBe(1);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'status', outcome: 'other' })).toBe(1);
    expect(valueOf(samples, 'vlinders_ops_commands_total', { command: 'other', outcome: 'ok' })).toBe(1);
    // Only the record with a duration is observed: 1.5 s lands in the 2.5 s bucket, not the 1 s one.
    expect(valueOf(samples, 'vlinders_ops_command_duration_seconds_count', { command: 'status' })).toBe(1);
    expect(valueOf(samples, 'vlinders_ops_command_duration_seconds_bucket', { command: 'status', le: '1' })).toBe(0);
    expect(valueOf(samples, 'vlinders_ops_command_duration_seconds_bucket', { command: 'status', le: '2.5' })).toBe(1);
    // No process metrics when asked for none.
    expect(samples.some((s) => s.name.startsWith('process_'))).toBe(false);
  });

  it('two registries in one process keep their own counts', async () => {
    const a = new OpsMetrics();
    const b = new OpsMetrics();
    a.commandFinished('status', 'ok', 10);
    const sa = await scrape(await serve(a));
    const sb = await scrape(await serve(b));
    expect(valueOf(sa.samples, 'vlinders_ops_commands_total', { command: 'status', outcome: 'ok' })).toBe(1);
    expect(valueOf(sb.samples, 'vlinders_ops_commands_total', { command: 'status', outcome: 'ok' })).toBeUndefined();
  });
});

describe('/metrics: process and backup metrics', () => {
  it('exports default process metrics', async () => {
    const { samples } = await scrape(await serve(new OpsMetrics()));
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('backup metrics exist before any backup, and follow recordBackup', async () => {
    const metrics = new OpsMetrics({ defaultMetrics: false });
    const server = await serve(metrics);
    let { samples } = await scrape(server);
    expect(valueOf(samples, 'vlinders_ops_backup_bytes_total')).toBe(0);
    expect(valueOf(samples, 'vlinders_ops_last_successful_backup_timestamp_seconds')).toBe(0);

    metrics.recordBackup({ bytes: 5_000_000, durationMs: 42_000, ok: true, finishedAt: Date.UTC(2025, 0, 2, 3, 4, 5) });
    metrics.recordBackup({ bytes: 123, durationMs: 7_000, ok: false, finishedAt: Date.UTC(2025, 0, 3) });
    metrics.recordBackup({ bytes: 1_000_000, durationMs: 30_000, ok: true, finishedAt: Date.UTC(2025, 0, 4) });
    ({ samples } = await scrape(server));
    // A failed backup leaves no object, so its bytes don't count and the timestamp stays.
    expect(valueOf(samples, 'vlinders_ops_backup_bytes_total')).toBe(6_000_000);
    expect(valueOf(samples, 'vlinders_ops_last_successful_backup_timestamp_seconds')).toBe(Date.UTC(2025, 0, 4) / 1000);
    expect(valueOf(samples, 'vlinders_ops_backup_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(valueOf(samples, 'vlinders_ops_backup_duration_seconds_sum', { outcome: 'ok' })).toBe(72);
    expect(valueOf(samples, 'vlinders_ops_backup_duration_seconds_count', { outcome: 'fail' })).toBe(1);
  });
});

describe('/metrics: Slack Web API errors through the WebClient fetch hook', () => {
  let slack: SlackWorkspaceEmulator;
  beforeAll(async () => {
    slack = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
    seedConversations(slack);
    slack.addChannel('C1', 'c1', { bot: true });
  });
  afterAll(async () => {
    await slack.close();
  });

  it('counts ok:false answers, 429s and transport failures by method; successes and other URLs are not counted', async () => {
    const metrics = new OpsMetrics({ defaultMetrics: false });
    const client = new WebClient(slack.botToken, {
      slackApiUrl: slack.apiUrl,
      fetch: meteredSlackFetch(metrics, { apiUrl: slack.apiUrl }),
      // One quick retry, so the call that met a 429 goes through on its second attempt.
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 },
      logLevel: WebLogLevel.ERROR,
    });
    await client.chat.postMessage({ channel: CHANNELS.ops, text: 'hello' });
    slack.failNext('chat.postMessage', 'channel_not_found');
    await expect(client.chat.postMessage({ channel: CHANNELS.ops, text: 'again' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    // A 429 is counted, then WebClient waits Retry-After and the retry succeeds.
    slack.rateLimitNext('chat.update', 0);
    const posted = await client.chat.postMessage({ channel: CHANNELS.ops, text: 'third' });
    await client.chat.update({ channel: CHANNELS.ops, ts: posted.ts as string, text: 'edited' });
    // A wrong token is Slack's invalid_auth.
    const stranger = new WebClient('xoxb-wrong', { slackApiUrl: slack.apiUrl, fetch: meteredSlackFetch(metrics, { apiUrl: slack.apiUrl }), retryConfig: { retries: 0 }, logLevel: WebLogLevel.ERROR });
    await expect(stranger.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    // Nothing listening: a transport failure.
    const nowhere = 'http://127.0.0.1:9/api/';
    const offline = new WebClient(slack.botToken, { slackApiUrl: nowhere, fetch: meteredSlackFetch(metrics, { apiUrl: nowhere }), retryConfig: { retries: 0 }, logLevel: WebLogLevel.ERROR });
    await expect(offline.auth.test()).rejects.toThrow();
    // A URL that isn't a Web API method (a response_url) passes through uncounted.
    await meteredSlackFetch(metrics, { apiUrl: slack.apiUrl })(`${slack.baseUrl}/commands/nope`, { method: 'POST', body: '{}' });

    const { samples } = await scrape(await serve(metrics));
    const errors = samples.filter((s) => s.name === 'vlinders_ops_slack_api_errors_total');
    const rows = errors.map((s) => ({ method: s.labels.method ?? '', error: s.labels.error ?? '', n: s.value }));
    expect(rows.sort((x, y) => x.method.localeCompare(y.method) || x.error.localeCompare(y.error))).toEqual([
      { method: 'auth.test', error: 'invalid_auth', n: 1 },
      { method: 'auth.test', error: 'request_failed', n: 1 },
      { method: 'chat.postMessage', error: 'channel_not_found', n: 1 },
      { method: 'chat.update', error: 'ratelimited', n: 1 },
    ]);
    // The hook didn't eat the bodies WebClient reads: the edit landed.
    expect(slack.findMessage(CHANNELS.ops, posted.ts as string)?.text).toBe('edited');
  });

  it('Bolt hands clientOptions.fetch to app.client: its failed calls are counted', async () => {
    const metrics = new OpsMetrics({ defaultMetrics: false });
    const app = new App({
      token: slack.botToken,
      signingSecret: slack.signingSecret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl, fetch: meteredSlackFetch(metrics, { apiUrl: slack.apiUrl }), retryConfig: { retries: 0 } },
    });
    slack.failNext('usergroups.users.list', 'no_such_subteam');
    await expect(app.client.usergroups.users.list({ usergroup: 'S0NOPE' })).rejects.toThrow(/no_such_subteam/);
    const { samples } = await scrape(await serve(metrics));
    expect(valueOf(samples, 'vlinders_ops_slack_api_errors_total', { method: 'usergroups.users.list', error: 'no_such_subteam' })).toBe(1);
  });
});
