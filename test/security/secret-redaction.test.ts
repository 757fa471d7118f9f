// Issue 13 item 4: a secret never leaves, whatever shape it takes. A corpus of leak shapes
// (JSON, CLI flags, auth headers, provider tokens, URLs, key=value) goes through every output
// path: Slack blocks, fallback text and files, the terminal's text and JSON, logs and the
// audit log and its Slack mirror. Beyond shapes, the exact values of Secrets the bot read
// from the cluster, and of its own secret environment variables, are removed too.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderJson, renderText } from '../../src/cli/render.js';
import { Audit, describeAudit } from '../../src/core/audit.js';
import { createLogger } from '../../src/core/log.js';
import { redactText, rememberKubeSecret } from '../../src/core/redact.js';
import { redactReport, type Report } from '../../src/core/report.js';
import { alertBody, postAlert, serveAlerts } from '../e2e/alert-server.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { startBot } from '../e2e/harness.js';
import { everything } from '../e2e/secrets.js';
import { captureLog, testEngine } from '../fixtures/engine.js';
import { recordingPoster, recordingReply, replyWithReport } from '../fixtures/slack-recorder.js';
import { CHANNELS, USERS } from '../fixtures/world.js';

// A secret only the bot's environment holds: no pattern knows its shape.
const ENV_SECRET = `envsecret${randomBytes(8).toString('hex')}`;
process.env.VLINDERS_TEST_SERVICE_TOKEN = ENV_SECRET;

interface Leak {
  shape: string;
  text: string;
  secret: string;
}

const leak = (shape: string, text: string, secret: string): Leak => ({ shape, text, secret });

const LEAKS: Leak[] = [
  // JSON and dicts
  leak('JSON password', 'login payload {"user":"svc","password":"hunter2-json-pw"}', 'hunter2-json-pw'),
  leak('JSON spaced', '{ "db_password" : "Spaced-Json-Pw-1" }', 'Spaced-Json-Pw-1'),
  leak('JSON token', 'config {"apiToken":"tok-json-98765","retries":3}', 'tok-json-98765'),
  leak('JSON secret key', '{"client_secret":"cs-json-abcdef"}', 'cs-json-abcdef'),
  leak('JSON api_key', '{"api_key": "ak-json-11223344"}', 'ak-json-11223344'),
  leak('JSON number password', '{"password": 834759201}', '834759201'),
  leak('JSON escaped quote in value', '{"password":"quo\\"te-pw-777"}', 'te-pw-777'),
  leak('JSON inside a JSON string', '{"msg":"{\\"password\\":\\"nested-json-pw\\"}"}', 'nested-json-pw'),
  leak('Python dict', "settings {'password': 'py-dict-pw-42', 'host': 'db'}", 'py-dict-pw-42'),
  leak('Kubernetes env JSON', '{"name":"DB_PASSWORD","value":"k8s-env-pw-31"}', 'k8s-env-pw-31'),
  leak('AWS credentials JSON', '{"AccessKeyId":"AKIAIOSFODNN7EXAMPLE","SecretAccessKey":"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"}', 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY'),
  // CLI flags
  leak('--password value', 'running: psql --password pw-flag-value-1 -h db', 'pw-flag-value-1'),
  leak('--password=value', 'running: tool --password=pw-flag-eq-2', 'pw-flag-eq-2'),
  leak('--token "quoted"', 'exec: cli --token "flag-token quoted-3"', 'flag-token quoted-3'),
  leak('--api-key', 'hf-cli --api-key apikey-flag-4455', 'apikey-flag-4455'),
  leak('--client-secret', 'oauth --client-secret clisec-flag-66', 'clisec-flag-66'),
  leak('-secret single dash', 'legacy -secret single-dash-secret-7', 'single-dash-secret-7'),
  leak('flag at start', '--password start-of-line-pw-8', 'start-of-line-pw-8'),
  leak('curl -u', 'curl -u admin:curl-basic-pw-9 https://x', 'curl-basic-pw-9'),
  // Authorization headers
  leak('Authorization Bearer', 'Authorization: Bearer abc.def.bearer12345', 'abc.def.bearer12345'),
  leak('Authorization Token', 'request headers Authorization: Token tok-header-5566', 'tok-header-5566'),
  leak('Authorization Basic', 'Authorization: Basic dXNlcjpiYXNpYy1wdy0xMA==', 'dXNlcjpiYXNpYy1wdy0xMA=='),
  leak('Authorization no scheme', 'authorization=rawauthvalue-11', 'rawauthvalue-11'),
  leak('Authorization JSON header', '{"headers":{"Authorization":"Token json-header-tok-12"}}', 'json-header-tok-12'),
  leak('Proxy-Authorization', 'Proxy-Authorization: Basic cHJveHk6cHJveHktcHc=', 'cHJveHk6cHJveHktcHc='),
  leak('lowercase bearer', 'sent bearer lowercasebearer1314', 'lowercasebearer1314'),
  leak('Cookie header', 'Cookie: session=cookie-session-15; theme=dark', 'cookie-session-15'),
  leak('X-Api-Key header', 'X-Api-Key: xapikey-header-16', 'xapikey-header-16'),
  // Provider token shapes, bare
  leak('Hugging Face', 'download with hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345 failed', 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345'),
  leak('GitHub classic', 'clone ghp_0123456789abcdefghijABCDEFGHIJ012345', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'),
  leak('GitHub OAuth', 'gho_16C7e42F292c6912E7710c838347Ae178B4a', 'gho_16C7e42F292c6912E7710c838347Ae178B4a'),
  leak('GitHub fine-grained', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'),
  leak('OpenAI', 'openai key sk-proj-AbC123dEf456GhI789jKl0', 'sk-proj-AbC123dEf456GhI789jKl0'),
  leak('OpenAI legacy', 'sk-0123456789abcdefABCDEFghijkl', 'sk-0123456789abcdefABCDEFghijkl'),
  leak('Anthropic', 'sk-ant-api03-AbCdEfGhIjKlMnOpQr', 'sk-ant-api03-AbCdEfGhIjKlMnOpQr'),
  leak('Stripe', 'charge with sk_live_51AbCdEfGhIjKl', 'sk_live_51AbCdEfGhIjKl'),
  leak('Slack bot', 'slack xoxb-1234567890-0987654321-AbCdEfGh', 'xoxb-1234567890-0987654321-AbCdEfGh'),
  leak('Slack user', 'xoxp-2222222222-3333333333-abcdefabcdef', 'xoxp-2222222222-3333333333-abcdefabcdef'),
  leak('Slack app', 'xapp-1-A0123456789-1234567890-abcdef0123', 'xapp-1-A0123456789-1234567890-abcdef0123'),
  leak('Slack refresh', 'xoxr-refresh-9876543210-zyxw', 'xoxr-refresh-9876543210-zyxw'),
  leak('Slack webhook', 'posting to https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX', 'XXXXsecretXXXX'),
  leak('GitLab', 'glpat-AbCdEfGhIjKlMnOpQrSt', 'glpat-AbCdEfGhIjKlMnOpQrSt'),
  leak('npm', 'npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'),
  leak('Google API key', 'maps AIzaSyA1234567890abcdefghijklmnopqrstu', 'AIzaSyA1234567890abcdefghijklmnopqrstu'),
  leak('SendGrid', 'SG.AbCdEfGhIjKlMnOpQrSt.UvWxYz0123456789AbCdEfGh', 'SG.AbCdEfGhIjKlMnOpQrSt.UvWxYz0123456789AbCdEfGh'),
  leak('AWS access key id', 'aws AKIAIOSFODNN7EXAMPLE used', 'AKIAIOSFODNN7EXAMPLE'),
  leak('AWS STS key id', 'ASIAY34FZKBOKMUTVV7A expired', 'ASIAY34FZKBOKMUTVV7A'),
  leak('AWS secret env', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE2', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE2'),
  leak('JWT', 'id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXZhbHVlLTEy', 'eyJzdWIiOiJhZG1pbiJ9'),
  leak('PEM private key', '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'),
  leak('PEM cut off', 'key: -----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEAcutoff', 'MIIEpAIBAAKCAQEAcutoff'),
  // URLs and connection strings
  leak('postgres URL', 'dsn postgres://vlinders:pg-url-pw-21@postgres-0:5432/vlinders', 'pg-url-pw-21'),
  leak('redis URL no user', 'redis://:redis-url-pw-22@redis:6379/0', 'redis-url-pw-22'),
  leak('mongodb+srv', 'mongodb+srv://app:mongo-pw-23@cluster0.example.net/db', 'mongo-pw-23'),
  leak('https userinfo', 'fetch https://deploy:https-pw-24@git.example.com/repo.git', 'https-pw-24'),
  leak('token as userinfo', 'git clone https://ghs_tokenasuserinfo0123456789@github.com/o/r', 'ghs_tokenasuserinfo0123456789'),
  leak('libpq DSN', 'host=pg user=vlinders password=libpq-pw-25 dbname=x', 'libpq-pw-25'),
  leak('ADO.NET', 'Server=db;User Id=sa;Password=ado-pw-26;Database=x', 'ado-pw-26'),
  leak('query string token', 'GET /cb?code=1&access_token=qs-token-27&state=x', 'qs-token-27'),
  leak('S3 presigned', 'GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIDX&X-Amz-Signature=f00dfeedc0ffee28', 'f00dfeedc0ffee28'),
  leak('Azure SAS', 'https://acct.blob.core.windows.net/c/b?sv=2022&sig=azuresig29%3D', 'azuresig29'),
  // key=value forms
  leak('env PGPASSWORD', 'PGPASSWORD="pg env pw 30" pg_dump', 'pg env pw 30'),
  leak('YAML password', 'password: yaml-pw-31', 'yaml-pw-31'),
  leak('env export', 'export HF_TOKEN=hf-env-token-value-32', 'hf-env-token-value-32'),
  leak('Ruby hash', ':password => "ruby-pw-33"', 'ruby-pw-33'),
  leak('secret key name', 'stripe_secret_key: sk-nonstandard-34', 'sk-nonstandard-34'),
  leak('passphrase', 'gpg passphrase=gpg-phrase-35', 'gpg-phrase-35'),
  leak('credentials', 'credentials: cred-value-36', 'cred-value-36'),
];

/** Which leaks' secrets appear in `shown`, by shape. */
const leaked = (shown: string, leaks: readonly Leak[] = LEAKS) => leaks.filter((l) => shown.includes(l.secret)).map((l) => l.shape);

/** A report with the text in every field a command can fill. */
const reportOf = (text: string): Report => ({
  title: `diagnose ${text}`,
  status: 'fail',
  summary: text,
  sections: [{ title: text, fields: [{ label: 'log', value: text }], header: ['line'], rows: [[text]], lines: [text] }],
  attachments: [{ filename: 'log.txt', title: text, content: text }],
  thread: [{ title: 'details', status: 'info', sections: [{ lines: [text] }] }],
  offers: [{ intro: text, words: ['diagnose', 'pod'] }],
});

describe('the leak corpus', () => {
  it(`holds at least 50 shapes (${LEAKS.length})`, () => {
    expect(LEAKS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(LEAKS.map((l) => l.shape)).size).toBe(LEAKS.length);
  });

  it('no shape survives a Report posted to Slack (blocks, fallback text, a file), nor the terminal (text and JSON)', async () => {
    const found: string[] = [];
    for (const l of LEAKS) {
      // As the engine hands a command's report on.
      const report = redactReport(reportOf(l.text));
      const { poster, sent } = recordingPoster();
      await poster.report({ channel: CHANNELS.ops }, report, `ran ${l.text}`);
      await replyWithReport(sent, report);
      if (JSON.stringify(sent).includes(l.secret)) found.push(`${l.shape} (Slack)`);
      if (`${renderText(report)}\n${renderJson(report)}`.includes(l.secret)) found.push(`${l.shape} (terminal)`);
    }
    expect(found).toEqual([]);
  });

  it('no shape survives Slack even from a report that skipped the engine (an alert, an incident), nor a plain message', async () => {
    const { poster, sent } = recordingPoster();
    for (const l of LEAKS) {
      await poster.report({ channel: CHANNELS.incidents }, reportOf(l.text));
      await poster.updateReport(CHANNELS.incidents, '1.1', reportOf(l.text));
      await poster.post({ channel: CHANNELS.ops }, l.text);
      await poster.update(CHANNELS.ops, '1.1', l.text);
      await recordingReply(sent).ephemeral(l.text);
    }
    expect(leaked(JSON.stringify(sent))).toEqual([]);
  });

  it('no shape survives a log line (message, fields, an error) nor an audit record and its Slack mirror', async () => {
    const { stream, captured } = captureLog();
    const log = createLogger('info', stream);
    const { poster, sent } = recordingPoster();
    const audit = new Audit(log, async (record) => void (await poster.post({ channel: CHANNELS.general }, describeAudit(record))));
    for (const l of LEAKS) {
      log.info({ detail: l.text, nested: { note: l.text, list: [l.text] } }, l.text);
      log.error({ err: new Error(l.text, { cause: new Error(l.text) }) }, 'failed');
      log.warn(`${l.shape}: ${l.text}`);
      audit.record({ event: 'outcome', user: USERS.viewer, channel: CHANNELS.ops, surface: 'slack', command: 'diagnose pod', args: l.text, detail: l.text, outcome: 'fail' });
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(leaked(captured.text())).toEqual([]);
    expect(leaked(JSON.stringify(sent))).toEqual([]);
    expect(captured.audit()).toHaveLength(LEAKS.length);
  });
});

describe('the values of the Secrets the bot read', () => {
  it('are removed wherever they appear, but user names, hosts and public certificates stay readable', () => {
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const password = `pw${randomBytes(6).toString('hex')}`;
    const key = `-----BEGIN PRIVATE KEY-----\nMIIE${randomBytes(12).toString('hex')}\n-----END PRIVATE KEY-----`;
    rememberKubeSecret({ items: [{ data: { POSTGRES_USER: b64('vlinders'), 'db-host': b64('postgres-0.vlinders-platform'), 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nMIIBpublicpart0123\n-----END CERTIFICATE-----'), password: b64(password), 'tls.key': b64(key) } }] });
    const keyLine = key.split('\n')[1] ?? '';
    const out = redactText(`vlinders on postgres-0.vlinders-platform with ${password} (${b64(password)}), key line ${keyLine}, cert MIIBpublicpart0123`);
    expect(out).toBe('vlinders on postgres-0.vlinders-platform with [REDACTED] ([REDACTED]), key line [REDACTED], cert MIIBpublicpart0123');
  });
});

describe('every output path of a running bot: pod logs, typed text, alert labels, Secrets it read, its environment', () => {
  it('diagnose pod and the daily digest (posted by a viewer in #general), a card, the audit log and mirror, an alert thread and the terminal show none', async () => {
    const cluster = await startCluster({ crashLoopApiPod: true });
    // A Secret the bot will read (the digest checks it as a TLS Secret): its values are no known shape.
    const clusterSecret = `clustersecret${randomBytes(8).toString('hex')}`;
    cluster.kube.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'leaky-tls', namespace: 'vlinders-platform' },
      type: 'Opaque',
      data: { 'tls.crt': Buffer.from('not a certificate').toString('base64'), 'service-key': Buffer.from(clusterSecret).toString('base64') },
    } as never);
    const registry: Leak[] = [
      { shape: 'a value of a Secret the bot read', text: `connected with ${clusterSecret} to upstream`, secret: clusterSecret },
      { shape: 'a value of the bot environment', text: `retrying with ${ENV_SECRET}`, secret: ENV_SECRET },
    ];
    const lines = [...LEAKS, ...registry].map((l, i) => `2026-12-06T00:00:${String(i % 60).padStart(2, '0')}Z ERROR [vlinders.api] ${l.text}`);
    // diagnose pod shows the last 50 lines: each read serves the next slice, so every line is shown once.
    let reads = 0;
    const slices = [lines.slice(0, 35), lines.slice(35)];
    cluster.kube.setHooks({ ...cluster.world.hooks, logs: () => slices[reads++ % slices.length] ?? [] });
    const config = clusterConfig();
    config.audit = { ...config.audit, channel: CHANNELS.ops };
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
    config.digest.tlsSecrets = [{ namespace: 'vlinders-platform', name: 'leaky-tls' }];
    const bot = await startBot({ config, services: cluster.services });
    const alerts = await serveAlerts(bot, config);
    const pod = cluster.world.cluster.broken.crashLoopPod as string;
    try {
      await bot.slash(USERS.viewer, CHANNELS.general, 'digest daily');
      await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => JSON.stringify(e.blocks ?? []).includes('TLS certificates')), 30_000);
      for (let i = 0; i < slices.length; i++) {
        const before = bot.emu.messages.length;
        await bot.slash(USERS.viewer, CHANNELS.general, `diagnose pod ${pod}`);
        await bot.emu.waitFor(() => bot.emu.messages.length > before && bot.emu.messages.slice(before).find((m) => JSON.stringify(m.blocks ?? []).includes('log lines of')), 15_000);
      }
      for (const l of LEAKS.slice(0, 10)) await bot.slash(USERS.operator, CHANNELS.ops, `test-change 3 --note '${l.text.replace(/'/g, '')}'`);
      // Alert labels (per alert, so they are shown) and annotations carry leaks too; alert threads don't pass the engine.
      const body = JSON.parse(alertBody({ alertname: 'VlindersApiErrors', severity: 'critical' }, '{}:{alertname="VlindersApiErrors"}')) as { commonAnnotations: Record<string, string>; alerts: Array<{ labels: Record<string, string> }> };
      body.commonAnnotations = { summary: `upstream ${LEAKS[20]?.text ?? ''}` };
      body.alerts = body.alerts.map((a, i) => ({ ...a, labels: { ...a.labels, ...Object.fromEntries(LEAKS.slice(i * 5, i * 5 + 5).map((l, j) => [`leak${j}`, l.text])) } }));
      const res = await postAlert(alerts.url, JSON.stringify(body));
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      await bot.bot.idle();

      const said = everything(bot);
      // It all got there: the lines were shown, and the Secret was read.
      expect(said).toContain('connected with [REDACTED] to upstream');
      expect(said).toContain('retrying with [REDACTED]');
      expect(said).toContain('FIRING: VlindersApiErrors');
      expect(said).toContain('leak0=login payload');
      expect(bot.log.audit().some((a) => a.command === 'test-change')).toBe(true);
      expect(leaked(said, [...LEAKS, ...registry])).toEqual([]);

      // The terminal: the same commands, rendered as text and JSON.
      const { engine, log } = testEngine({ config, services: cluster.services });
      const cli = { userId: 'cli:ops', channelId: 'cli', surface: 'cli' as const };
      const shown: string[] = [];
      for (let i = 0; i < slices.length; i++) {
        const out = await engine.invoke({ ...cli, userId: USERS.viewer }, `diagnose pod ${pod}`, { progress: async (t) => void shown.push(t), signal: new AbortController().signal });
        expect(out.kind).toBe('report');
        if (out.kind === 'report') shown.push(renderText(out.report), renderJson(out.report));
      }
      expect(shown.join('\n')).toContain('retrying with [REDACTED]');
      expect(leaked(`${shown.join('\n')}\n${log.text()}`, [...LEAKS, ...registry])).toEqual([]);
    } finally {
      await alerts.close();
      await bot.close();
      await cluster.close();
    }
  }, 180_000);
});
