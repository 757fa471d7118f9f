// Every example in README.md's command table, run in the console in real Chromium as a
// newcomer would try them: as the admin in #ops (approving changes; a destructive one by the
// second approver), and as the viewer in #general where the example is a read. No reply may
// show that the sandbox is missing a peer or that the bot broke: ENOENT, "credentials",
// "executable file not found", ENOTFOUND, "Internal error".
//
// The examples are read from the README (between its commands markers), never copied here.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEGIN, END } from '../../src/cli/docs.js';
import { DEMO_CHANNELS, DEMO_USERS, startConsole, type Console } from '../../src/console/index.js';
import { stateVersion } from '../../src/console/state.js';
import { createLogger } from '../../src/core/log.js';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** What a reply must never say: a sandbox peer is missing, or the bot itself broke. */
const FORBIDDEN = ['ENOENT', 'credentials', 'executable file not found', 'ENOTFOUND', 'Internal error'];
/** How long a change may run once approved (model downloads, restores, the load test). */
const RUN_TIMEOUT_MS = 180_000;

interface Example {
  command: string;
  role: 'viewer' | 'operator' | 'admin';
  effect: 'reads' | 'changes' | 'destructive';
}

/** The README's command table: every example of every row, with the row's least role and effect. */
function readmeExamples(): Example[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error('README.md has no commands block');
  const rows = text.slice(start + BEGIN.length, end).trim().split('\n').slice(2);
  return rows.flatMap((row) => {
    // The usage cell may hold '|' (daily|weekly|monthly): the last three cells are counted from the end.
    const cells = row.replace(/^\|\s*/, '').replace(/\s*\|$/, '').split(' | ');
    const [role, effect, examples] = cells.slice(-3);
    if (!role || !effect || examples === undefined || !['viewer', 'operator', 'admin'].includes(role)) throw new Error(`unreadable README row: ${row}`);
    return examples
      .split('<br>')
      .map((e) => e.trim().replace(/^`|`$/g, ''))
      .filter(Boolean)
      .map((command): Example => ({ command, role: role as Example['role'], effect: effect.startsWith('destructive') ? 'destructive' : effect.startsWith('changes') ? 'changes' : 'reads' }));
  });
}

const examples = readmeExamples();

let app: Console;
let browser: Browser;
const pages = new Map<string, Page>();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji`);
  app = await startConsole({ port: 0, kubeconfig: false, log: createLogger('silent') });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
}, 60_000);

/** One page per person and channel, kept open as a person keeps a Slack window open. */
async function pageOf(user: string, channel: string): Promise<Page> {
  const key = `${user}/${channel}`;
  const open = pages.get(key);
  if (open) return open;
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(30_000);
  await page.goto(`${app.url}/#user=${user}&channel=${channel}`);
  await page.locator('#banner strong').waitFor();
  pages.set(key, page);
  return page;
}

const isCard = (m: RecordedMessage) => JSON.stringify(m.blocks ?? []).includes('vlinders_approve');
/** The card's status line once the change ended (outcomeLine), or was cancelled. */
const decided = (m: RecordedMessage) => /^(✅ Done|⚠️ Finished with warnings|❌ Failed|🚫 Cancelled)/.test(m.text);

/** Until nothing in the workspace changed for `quietMs`: the reply, its thread and its files are all there. */
async function settled(quietMs = 1500, timeoutMs = RUN_TIMEOUT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  let version = stateVersion(app.slack);
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > end) throw new Error('the workspace never settled');
    await new Promise((r) => setTimeout(r, 100));
    const now = stateVersion(app.slack);
    if (now !== version) [version, since] = [now, Date.now()];
  }
}

/** Everything the workspace recorded after `mark`, as one text: messages (every version), the user's ephemerals, uploads. */
function recordedSince(mark: ReturnType<typeof markOf>, user: string): string {
  const ws = app.slack;
  const parts: string[] = [];
  ws.messages.forEach((m, i) => {
    const before = i < mark.messages ? (mark.updates.get(m) ?? 0) : -1;
    if (before === -1) parts.push(m.text, JSON.stringify(m.blocks ?? []));
    for (const u of m.updates.slice(Math.max(before, 0))) parts.push(JSON.stringify(u));
  });
  for (const e of ws.ephemerals.slice(mark.ephemerals)) if (e.user === user) parts.push(e.text, JSON.stringify(e.blocks ?? []));
  for (const f of ws.uploads.slice(mark.uploads)) parts.push(f.title ?? f.filename, f.initial_comment ?? '', f.content);
  return parts.join('\n');
}

/** What the page shows of the messages and ephemerals posted or updated in `channel` after `mark`. */
async function shownSince(page: Page, mark: ReturnType<typeof markOf>, user: string, channel: string): Promise<string> {
  const ws = app.slack;
  const changed = ws.messages.filter((m, i) => m.channel === channel && (i >= mark.messages || m.updates.length > (mark.updates.get(m) ?? 0)));
  const stamps = [...changed.map((m) => m.ts), ...ws.ephemerals.slice(mark.ephemerals).filter((e) => e.user === user && e.channel === channel).map((e) => e.message_ts)];
  const texts: string[] = [];
  for (const ts of stamps) {
    const shown = page.locator(`.msg[data-ts="${ts}"]`).first();
    await shown.waitFor({ timeout: 10_000 });
    texts.push(await shown.innerText());
  }
  return texts.join('\n');
}

function markOf() {
  const ws = app.slack;
  return { messages: ws.messages.length, ephemerals: ws.ephemerals.length, uploads: ws.uploads.length, updates: new Map(ws.messages.map((m) => [m, m.updates.length])) };
}

/** Types the example in the page and waits for the bot's first answer: a message or an ephemeral for the typist. */
async function run(user: string, channel: string, command: string) {
  const page = await pageOf(user, channel);
  const mark = markOf();
  await page.locator('#command').fill(`/vlinders ${command}`);
  await page.locator('#command').press('Enter');
  await page.locator('#composer-status', { hasText: `Sent /vlinders ${command}` }).waitFor();
  await app.slack.waitFor(() => app.slack.messages.length > mark.messages || app.slack.ephemerals.slice(mark.ephemerals).some((e) => e.user === user), RUN_TIMEOUT_MS);
  return { page, mark };
}

/** Clicks Approve on the card as `user`, in their own page, as they would. */
async function approve(user: string, card: RecordedMessage): Promise<void> {
  const page = await pageOf(user, card.channel);
  const button = page.locator(`#messages > .msg[data-ts="${card.ts}"] .btn`, { hasText: 'Approve' });
  await button.click();
  await page.locator('#composer-status', { hasText: 'clicked Approve.' }).waitFor();
}

function expectClean(text: string, what: string): void {
  const found = FORBIDDEN.filter((f) => text.includes(f));
  const at = found.map((f) => text.slice(Math.max(0, text.indexOf(f) - 160), text.indexOf(f) + 80).replace(/\s+/g, ' '));
  expect(found, `${what} says ${at.join(' … ')}`).toEqual([]);
}

describe("README's command table, in the console", () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThan(20);
    expect(examples.filter((e) => e.effect === 'destructive').length).toBeGreaterThan(0);
  });

  const { admin, approver, viewer } = DEMO_USERS;
  const { ops, general } = DEMO_CHANNELS;

  for (const example of examples) {
    it(`as the admin in #ops: ${example.command}`, async () => {
      const { page, mark } = await run(admin.id, ops.id, example.command);
      const card = app.slack.messages.slice(mark.messages).find((m) => m.channel === ops.id && isCard(m));
      if (card) {
        // A destructive change needs a second person: Bea approves what Ada asked for.
        await approve(example.effect === 'destructive' ? approver.id : admin.id, card);
        await app.slack.waitFor(() => decided(card), RUN_TIMEOUT_MS);
        // A finished change says so: no "Confirm" title, no ⏳ left in its thread.
        expect(JSON.stringify(card.blocks)).not.toContain('Confirm: ');
        expect(app.slack.threadOf(ops.id, card.ts).filter((m) => m.text.startsWith('⏳'))).toEqual([]);
      }
      await settled();
      const said = recordedSince(mark, admin.id);
      // Without a card, a change may only say there is nothing to do ("Nothing to prune…"), not that its plan failed.
      if (!card && example.effect !== 'reads') expect(said, `${example.command} asked for no Approve`).not.toContain('❌');
      expectClean(said, example.command);
      expectClean(await shownSince(page, mark, admin.id, ops.id), `the page after ${example.command}`);
    }, 2 * RUN_TIMEOUT_MS + 30_000);
  }

  for (const example of examples.filter((e) => e.effect === 'reads')) {
    it(`as the viewer in #general: ${example.command}`, async () => {
      const { page, mark } = await run(viewer.id, general.id, example.command);
      await settled();
      const said = recordedSince(mark, viewer.id);
      if (example.role === 'viewer') expect(said).not.toMatch(/needs the \w+ role/);
      else expect(said).toContain(`needs the ${example.role} role`);
      expectClean(said, example.command);
      expectClean(await shownSince(page, mark, viewer.id, general.id), `the page after ${example.command}`);
    }, RUN_TIMEOUT_MS + 30_000);
  }
});
