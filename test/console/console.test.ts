// The local console in real Chromium (Debian's package, driven by playwright-core): the page
// plays demo people against the real Bolt app, through the Slack workspace emulator, on the
// sandbox cluster.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebClient } from '@slack/web-api';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { DEMO_CHANNELS, DEMO_USERS, startConsole, type Console } from '../../src/console/index.js';
import { createLogger } from '../../src/core/log.js';
import { readCaptured } from '../fixtures/captured.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** `UPDATE_SCREENSHOT=1 npx vitest run test/console` refreshes the README's screenshot. */
const README_SHOT = fileURLToPath(new URL('./console.png', import.meta.url));

let app: Console;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  shots = mkdtempSync(join(tmpdir(), 'vlinders-console-'));
  app = await startConsole({ port: 0, kubeconfig: false, log: createLogger('silent') });
}, 60_000);

afterAll(async () => {
  await app?.close();
}, 30_000);

async function open(user: string, channel: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  (page as Page & { errors?: string[] }).errors = errors;
  await page.goto(`${app.url}/#user=${user}&channel=${channel}`);
  await page.locator('#banner strong').waitFor();
  return page;
}

const pageErrors = (page: Page) => (page as Page & { errors?: string[] }).errors ?? [];

async function type(page: Page, text: string): Promise<void> {
  await page.locator('#command').fill(text);
  await page.locator('#command').press('Enter');
  await page.locator('#composer-status', { hasText: 'the bot acked' }).waitFor();
}

async function shot(page: Page, name: string): Promise<string> {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

describe('the console in Chromium', () => {
  beforeAll(async () => {
    // Not a skip: CI installs chromium, and a missing browser must not pass silently.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the console test runs Debian's Chromium. Install it with: apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji`,
      );
    }
    // launch() gives every run a fresh, throw-away user-data-dir.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    process.stdout.write(`console screenshots: ${shots}\n`);
  });

  it('says it runs on the sandbox cluster and the Slack workspace emulator', async () => {
    const page = await open(DEMO_USERS.operator.id, DEMO_CHANNELS.ops.id);
    const banner = await page.locator('#banner').innerText();
    expect(banner).toContain('Sandbox');
    expect(banner).toContain('Slack workspace emulator');
    expect(banner).toContain('sandbox cluster');
    expect(await page.locator('#user option').allInnerTexts()).toEqual(['Vera · viewer', 'Otto · operator in #ops', 'Ada · admin, approver', 'Bea · admin, approver']);
    expect(await page.locator('#user').inputValue()).toBe(DEMO_USERS.operator.id);
    // Their names (#incidents may show an unread count: the sandbox's demo alert thread).
    expect((await page.locator('#channels .channel').allInnerTexts()).map((t) => t.split('\n')[0])).toEqual(['# ops', '# general', '# incidents']);
  });

  it('/vlinders status shows the report, rendered from its blocks', async () => {
    const page = await open(DEMO_USERS.operator.id, DEMO_CHANNELS.ops.id);
    await type(page, '/vlinders status');
    const report = page.locator('.msg', { has: page.locator('.b-header', { hasText: 'status · sandbox' }) });
    await report.waitFor();
    const text = await report.innerText();
    expect(text).toContain('✅ status · sandbox');
    expect(text).toContain('All healthy.');
    expect(text).toContain('gpu-workers 3/3 ready');
    // mrkdwn: *Checked* is bold, the mention is a name, the command is code.
    expect(await report.locator('strong').first().innerText()).toBe('Checked');
    expect(await report.locator('.b-context .mention').innerText()).toBe('@otto');
    expect(await report.locator('.b-context .inline-code').innerText()).toBe('/vlinders status');
    await shot(page, '1-status');
    expect(pageErrors(page)).toEqual([]);
  });

  it('digest daily --post shows its two charts inline in the thread, each described by its alt text', async () => {
    const page = await open(DEMO_USERS.operator.id, DEMO_CHANNELS.ops.id);
    await type(page, '/vlinders digest daily --post');
    for (const title of ['GPU utilization per node, last 24 h', 'P95 latency, last 24 h']) {
      const selector = `.thread figure.file-image img[alt^="Line chart: ${title},"]`;
      await page.locator(selector).waitFor({ timeout: 60_000 });
      // Decoded as a picture of the chart's size, not a broken image.
      await page.waitForFunction((sel) => [...document.querySelectorAll<HTMLImageElement>(sel)].some((i) => i.complete && i.naturalWidth === 900), selector);
    }
    expect(await page.locator('.thread figure.file-image img').last().getAttribute('alt')).toMatch(/Target 500 ms \(target\)\. P95: min \d+ ms, max \d+ ms at \d\d:\d\d UTC, last \d+ ms/);
    await page.locator('.thread figure.file-image').last().scrollIntoViewIfNeeded();
    await shot(page, '1-digest-charts');
    expect(pageErrors(page)).toEqual([]);
  }, 90_000);

  it('an operator runs scale-gpu 4 in #ops, clicks Approve, and sees progress, then ✅', async () => {
    const page = await open(DEMO_USERS.operator.id, DEMO_CHANNELS.ops.id);
    await type(page, '/vlinders scale-gpu 4');
    const confirm = page.locator('.msg', { has: page.locator('.b-header', { hasText: 'ℹ️ Confirm: scale-gpu gpu-workers: 3 → 4' }) });
    await confirm.waitFor();
    expect(await confirm.innerText()).toContain('Requested by @otto');
    await shot(page, '2-confirm');
    // The card by its ts: its title changes as the change goes on.
    const card = page.locator(`#messages > .msg[data-ts="${await confirm.getAttribute('data-ts')}"]`);

    await card.locator('.btn-primary', { hasText: 'Approve' }).click();
    // The card loses its buttons and says who approved, while the work runs.
    await card.locator('.b-context', { hasText: 'Approved by @otto; running…' }).waitFor();
    expect(await card.locator('.btn').count()).toBe(0);
    // Progress in the thread under the card, updated in place as workers turn Ready.
    await card.locator('.thread .msg', { hasText: /⏳ .*(Waiting for workers|workers Ready)/ }).first().waitFor();
    await shot(page, '3-progress');

    await card.locator(':scope > .msg-body > .msg-content .b-context', { hasText: '✅ Done · approved by @otto' }).waitFor({ timeout: 20_000 });
    // Finished: the title and the thread say so, nothing still waits or asks to confirm.
    expect(await card.locator(':scope > .msg-body > .msg-content .b-header').innerText()).toBe('✅ scale-gpu gpu-workers: 3 → 4');
    expect(await card.innerText()).not.toMatch(/⏳|Confirm/);
    const thread = await card.locator('.thread').innerText();
    expect(thread).toContain('✅ 4/4 workers Ready');
    expect(thread).toContain('gpu-workers is at 4 workers, all Ready.');
    // No hover highlight in the picture.
    await page.mouse.move(0, 0);
    const path = await shot(page, '4-done');
    if (process.env.UPDATE_SCREENSHOT === '1') writeFileSync(README_SHOT, await page.screenshot());
    expect(existsSync(path)).toBe(true);
    expect(pageErrors(page)).toEqual([]);
  }, 40_000);

  it('a viewer running scale-gpu is denied, in an ephemeral only they see', async () => {
    const page = await open(DEMO_USERS.viewer.id, DEMO_CHANNELS.ops.id);
    const cardsBefore = app.slack.messages.filter((m) => m.text.startsWith('Confirm scale-gpu')).length;
    await type(page, '/vlinders scale-gpu 4');
    const denial = page.locator('.msg.ephemeral', { hasText: 'needs the operator role; you are viewer here' });
    await denial.waitFor();
    expect(await denial.innerText()).toContain('Only visible to you');
    await shot(page, '5-denied');
    expect(app.slack.messages.filter((m) => m.text.startsWith('Confirm scale-gpu')).length).toBe(cardsBefore);

    // Someone else doesn't see Vera's ephemeral.
    await page.locator('#user').selectOption(DEMO_USERS.operator.id);
    await denial.waitFor({ state: 'detached' });
    expect(await page.locator('.msg.ephemeral').count()).toBe(0);
  });

  it('shows each message at the time it was posted', async () => {
    const client = new WebClient(app.slack.botToken, { slackApiUrl: app.slack.apiUrl });
    const posted: Array<{ ts: string; before: number; after: number }> = [];
    for (const text of ['first of two', 'second of two']) {
      // Whole seconds apart, so the times shown must differ.
      if (posted.length) await new Promise((r) => setTimeout(r, 2100));
      const before = Date.now();
      const res = await client.chat.postMessage({ channel: DEMO_CHANNELS.general.id, text });
      posted.push({ ts: res.ts as string, before, after: Date.now() });
    }
    const page = await open(DEMO_USERS.viewer.id, DEMO_CHANNELS.general.id);
    const shown: number[] = [];
    for (const p of posted) {
      const time = page.locator(`.msg[data-ts="${p.ts}"] .msg-meta time`);
      const at = Date.parse((await time.getAttribute('datetime')) ?? '');
      // Slack's ts carries whole seconds of the post time.
      expect(at).toBeGreaterThanOrEqual(Math.floor(p.before / 1000) * 1000);
      expect(at).toBeLessThanOrEqual(p.after);
      shown.push(at);
      expect(await time.innerText()).toBe(await page.evaluate((ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }), at));
    }
    expect((shown[1] ?? 0) - (shown[0] ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it('help is readable in an 800 px window: every command and what it does, nothing cut off', async () => {
    const page = await open(DEMO_USERS.admin.id, DEMO_CHANNELS.ops.id);
    await page.setViewportSize({ width: 800, height: 1000 });
    await type(page, '/vlinders help');
    const help = page.locator('.msg', { has: page.locator('.b-header', { hasText: 'vlinders-ops commands' }) }).last();
    // Help is for the one who asked: only they see it.
    await help.locator('.ephemeral-note', { hasText: 'Only visible to you' }).waitFor();
    const text = await help.innerText();
    // An admin in #ops may run every command.
    for (const c of commands) {
      expect(text).toContain(c.usage);
      expect(text).toContain(c.summary);
    }
    // Nothing in it is wider than the window lets it be (a wide table would scroll or be clipped).
    const overflowing = await help.evaluate((root) =>
      [root, ...root.querySelectorAll('*')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline').map((e) => e.className || e.tagName),
    );
    expect(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    await help.scrollIntoViewIfNeeded();
    await shot(page, '7-help-800');
    expect(pageErrors(page)).toEqual([]);
  });

  it('declares an incident from an alert thread, resolves it in its channel, and downloads the postmortem draft', async () => {
    // An alert, as Alertmanager posts it to the bot's webhook.
    const captured = JSON.parse(readCaptured('alertmanager/alertmanager_webhook_v4_firing_prometheus-msteams.json')) as Record<string, unknown> & { alerts: Array<Record<string, unknown>> };
    const labels = { alertname: 'RayServeLatencyHigh', severity: 'critical' };
    const body = { ...captured, groupKey: '{}:{alertname="RayServeLatencyHigh"}', groupLabels: { alertname: labels.alertname }, commonLabels: labels, alerts: captured.alerts.map((a) => ({ ...a, labels })) };
    const posted = await fetch(app.alertmanager.url, { method: 'POST', headers: { authorization: `Bearer ${app.alertmanager.token}` }, body: JSON.stringify(body) });
    expect(posted.status).toBe(200);

    const page = await open(DEMO_USERS.admin.id, DEMO_CHANNELS.incidents.id);
    // This alert's thread (#incidents also holds the sandbox's demo alert thread).
    const declare = page.locator('#messages > .msg', { hasText: 'RayServeLatencyHigh' }).locator('button', { hasText: 'Declare incident' });
    await declare.click();
    // The incident's channel appears in the sidebar of its commander.
    const room = page.locator('#channels .channel', { hasText: /# inc-\d{8}-\d+-rayservelatencyhigh/ });
    await room.click();
    const summary = page.locator('#messages > .msg', { has: page.locator('.b-header', { hasText: /Incident #\d+: RayServeLatencyHigh$/ }) });
    await summary.waitFor();
    expect(await summary.innerText()).toContain('SEV2');
    await shot(page, '8-incident-channel');

    await type(page, '/vlinders incident resolve latency back under target');
    const save = page.locator('#messages .file button', { hasText: 'Download' });
    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect(download.suggestedFilename()).toMatch(/^postmortem-incident-\d+\.md$/);
    const chunks: Buffer[] = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
    const draft = Buffer.concat(chunks).toString('utf8');
    expect(draft).toMatch(/^# Postmortem draft: incident #\d+, RayServeLatencyHigh/);
    expect(draft).toContain('Alert RayServeLatencyHigh fired from 2018-03-07T11:33:21Z');
    expect(draft).toContain('## Causes');
    await shot(page, '9-postmortem');
    // A person not in the incident's channel doesn't see it.
    const other = await open(DEMO_USERS.viewer.id, DEMO_CHANNELS.general.id);
    await other.locator('#channels .channel', { hasText: 'incidents' }).waitFor();
    expect(await other.locator('#channels').innerText()).not.toMatch(/inc-\d{8}/);
    expect(pageErrors(page)).toEqual([]);
  });

  it('renders untrusted text as text: no markup from a message runs', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const client = new WebClient(app.slack.botToken, { slackApiUrl: app.slack.apiUrl });
    const parent = await client.chat.postMessage({
      channel: DEMO_CHANNELS.general.id,
      text: evil,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: `H ${evil}` } },
        { type: 'section', text: { type: 'mrkdwn', text: `*bold* _it_ ~gone~ \`code\` snake_case_name ${evil} &lt;b&gt; <javascript:alert(1)|click me>` } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: `*Field*\n${evil}` }, { type: 'plain_text', text: evil }] },
        { type: 'section', text: { type: 'mrkdwn', text: '```\nline <1>\n  line 2\n```' } },
        { type: 'divider' },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `ctx ${evil}` }] },
        { type: 'actions', elements: [{ type: 'button', action_id: 'nothing', text: { type: 'plain_text', text: evil }, value: 'x' }] },
      ],
    });
    const thread_ts = parent.ts as string;
    await client.chat.postMessage({ channel: DEMO_CHANNELS.general.id, thread_ts, text: `reply ${evil}` });
    await client.filesUploadV2({ channel_id: DEMO_CHANNELS.general.id, thread_ts, filename: 'dump.txt', title: 'dump.txt', content: `file ${evil}\nsecond line` });

    const page = await open(DEMO_USERS.admin.id, DEMO_CHANNELS.general.id);
    const message = page.locator('.msg', { has: page.locator('.b-header', { hasText: 'H <img' }) });
    await message.locator('.file-name', { hasText: 'dump.txt' }).click();
    await message.locator('.file-content', { hasText: 'second line' }).waitFor();
    expect(await message.locator('.file-content').innerText()).toBe(`file ${evil}\nsecond line`);

    const text = await message.innerText();
    expect(text).toContain(`H ${evil}`);
    expect(text).toContain('<b>');
    expect(text).toContain(`reply ${evil}`);
    expect(await message.locator('strong').first().innerText()).toBe('bold');
    expect(await message.locator('em').first().innerText()).toBe('it');
    expect(await message.locator('s').first().innerText()).toBe('gone');
    expect(await message.locator('.b-section .inline-code').first().innerText()).toBe('code');
    expect(text).toContain('snake_case_name');
    expect(await message.locator('pre.code-block').innerText()).toBe('line <1>\n  line 2');
    expect(await message.locator('hr.b-divider').count()).toBe(1);
    // Only http(s) links become links.
    expect(await message.locator('a').count()).toBe(0);
    expect(await page.locator('#messages img, #messages script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot(page, '6-escaping');
    expect(pageErrors(page)).toEqual([]);
  });

  it('App Home: the operator opens it and sees the cluster, the GPU fleet and their commands as buttons', async () => {
    const page = await open(DEMO_USERS.operator.id, DEMO_CHANNELS.ops.id);
    await page.locator('#home-tab').click();
    const home = page.locator('#messages');
    await home.locator('.b-header', { hasText: 'Your commands' }).waitFor();
    const text = await home.innerText();
    expect(text).toContain('Vlinders operations');
    expect(text).toMatch(/GPU fleet: \d+ GPU nodes/);
    expect(text).toMatch(/nodes Ready/);
    expect(await home.locator('.b-actions .btn', { hasText: 'scale-gpu' }).count()).toBe(1);
    await shot(page, '9-home');
    // A viewer's Home has no scale-gpu button.
    await page.locator('#user').selectOption(DEMO_USERS.viewer.id);
    await home.locator('.b-context', { hasText: '@vera' }).waitFor();
    expect(await home.locator('.b-actions .btn', { hasText: 'status' }).count()).toBe(1);
    expect(await home.locator('.b-actions .btn', { hasText: 'scale-gpu' }).count()).toBe(0);
    expect(pageErrors(page)).toEqual([]);
  });

  it('scale-gpu with no argument opens a modal: a wrong count is shown on its field; the plan submitted is approved and runs', async () => {
    const page = await open(DEMO_USERS.operator.id, DEMO_CHANNELS.ops.id);
    await type(page, '/vlinders scale-gpu');
    const modal = page.locator('#modal-layer .modal', { hasText: 'Scale GPU workers' });
    await modal.waitFor();
    expect(await modal.innerText()).toMatch(/gpu-workers: current \d+, minimum \d+, maximum \d+/);
    await modal.locator('select[aria-label="group"]').selectOption('gpu-workers');
    await modal.locator('input[aria-label="replicas"]').fill('9');
    await modal.locator('input[aria-label="reason"]').fill('console demo');
    await modal.locator('button[type="submit"]').click();
    await modal.locator('.modal-error', { hasText: 'outside gpu-workers' }).waitFor();
    // What was typed stays; only the count changes.
    expect(await modal.locator('input[aria-label="reason"]').inputValue()).toBe('console demo');
    await modal.locator('input[aria-label="replicas"]').fill('2');
    await shot(page, '10-modal');
    await modal.locator('button[type="submit"]').click();
    await modal.waitFor({ state: 'detached' });
    const confirm = page.locator('#messages > .msg', { has: page.locator('.b-header', { hasText: /Confirm: scale-gpu gpu-workers: \d+ → 2/ }) });
    await confirm.waitFor();
    expect(await confirm.innerText()).toContain('reason: console demo');
    const card = page.locator(`#messages > .msg[data-ts="${await confirm.getAttribute('data-ts')}"]`);
    await card.locator('.btn-primary', { hasText: 'Approve' }).click();
    await card.locator(':scope > .msg-body > .msg-content .b-context', { hasText: '✅ Done · approved by @otto' }).waitFor({ timeout: 20_000 });
    expect(pageErrors(page)).toEqual([]);
  }, 40_000);

  it('"Diagnose this pod" from a message\'s menu diagnoses the pod it names, in its thread', async () => {
    const message = app.slack.postAsUser(DEMO_CHANNELS.general.id, DEMO_USERS.viewer.id, 'postgres-0 restarted again?');
    const page = await open(DEMO_USERS.viewer.id, DEMO_CHANNELS.general.id);
    const shown = page.locator(`#messages > .msg[data-ts="${message.ts}"]`);
    await shown.locator(':scope > .msg-body > .msg-meta .msg-menu summary').click();
    await shown.locator('.menu-item', { hasText: 'Diagnose this pod' }).click();
    await shown.locator('.thread .b-header', { hasText: 'postgres-0' }).waitFor();
    expect(pageErrors(page)).toEqual([]);
  });
});

describe('the console API', () => {
  function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string }) {
    const url = new URL(path, app.url);
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }
  const command = JSON.stringify({ user: DEMO_USERS.admin.id, channel: DEMO_CHANNELS.general.id, text: 'whoami' });

  it('refuses what another site could send: form posts, other origins, other host names', async () => {
    expect((await call('/api/command', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: command })).status).toBe(415);
    const json = { 'Content-Type': 'application/json' };
    expect((await call('/api/command', { method: 'POST', headers: { ...json, Origin: 'https://evil.example' }, body: command })).status).toBe(403);
    expect((await call('/api/meta', { headers: { Host: `evil.example:${new URL(app.url).port}` } })).status).toBe(421);
    const page = await call('/', {});
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js">');
  });

  it('has a favicon where browsers look for one', async () => {
    const res = await fetch(new URL('/favicon.ico', app.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    // An ICO directory: reserved 0, type 1, at least one image.
    const head = Buffer.from(await res.arrayBuffer());
    expect([head.readUInt16LE(0), head.readUInt16LE(2)]).toEqual([0, 1]);
    expect(head.readUInt16LE(4)).toBeGreaterThan(0);
  });

  it('sends what was typed as a Slack client does: @otto as his mention, & as an entity; the incident names both as typed', async () => {
    const json = { 'Content-Type': 'application/json' };
    const text = '/vlinders incident open Kong & Redis 502s --commander @otto';
    const sent = await call('/api/command', { method: 'POST', headers: json, body: JSON.stringify({ user: DEMO_USERS.admin.id, channel: DEMO_CHANNELS.ops.id, text }) });
    expect(sent.status).toBe(200);
    // The line in #incidents: the title as typed (escaped once by the bot), the commander as a mention.
    const line = await app.slack.waitFor(() => app.slack.messages.find((m) => m.channel === DEMO_CHANNELS.incidents.id && m.text.includes('Kong &amp; Redis 502s')));
    expect(JSON.stringify(line.blocks)).toContain(`commander <@${DEMO_USERS.operator.id}>`);
  });

  it('takes only demo people, known buttons and /vlinders', async () => {
    const json = { 'Content-Type': 'application/json' };
    const stranger = await call('/api/command', { method: 'POST', headers: json, body: JSON.stringify({ user: 'U0STRANGER', channel: DEMO_CHANNELS.general.id, text: 'status' }) });
    expect(stranger.status).toBe(400);
    const other = await call('/api/command', { method: 'POST', headers: json, body: JSON.stringify({ user: DEMO_USERS.admin.id, channel: DEMO_CHANNELS.general.id, text: '/giphy cats' }) });
    expect(JSON.parse(other.body)).toEqual({ error: 'Only /vlinders is installed in this workspace.' });
    const gone = await call('/api/click', { method: 'POST', headers: json, body: JSON.stringify({ user: DEMO_USERS.admin.id, channel: DEMO_CHANNELS.ops.id, ts: '1.000001', actionId: 'vlinders_approve' }) });
    expect(gone.status).toBe(409);
  });
});
