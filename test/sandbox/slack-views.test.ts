// The emulator's views.* methods, driven by the real @slack/web-api WebClient: Slack's limits on
// views (100 blocks, titles and buttons of 24 characters, 100 options, 3000 characters of
// private_metadata, 255-character ids, inputs need a submit), its trigger rules (3 s, once) and its
// error codes with response_metadata.messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { issueTrigger } from '../../src/sandbox/slack/user.js';
import { captureLogger } from './slack-helpers.js';

let emu: SlackWorkspaceEmulator;
let client: WebClient;
let clockMs = Date.now();
const USER = 'U0PERSON1';

beforeAll(async () => {
  emu = await SlackWorkspaceEmulator.start({ now: () => clockMs });
  client = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, logger: captureLogger(), retryConfig: { retries: 0 } });
});
afterAll(() => emu.close());

async function slackError(p: Promise<unknown>): Promise<{ error?: string; response_metadata?: { messages?: string[] } }> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || !('data' in err)) throw new Error(`expected a Slack platform error, got ${String(err)}`);
  return (err as WebAPIPlatformError).data as { error?: string; response_metadata?: { messages?: string[] } };
}

const text = (t: string) => ({ type: 'plain_text' as const, text: t });
const section = (i: number) => ({ type: 'section', text: { type: 'mrkdwn', text: `line ${i}` } });
const modal = (over: Record<string, unknown> = {}) => ({ type: 'modal', title: text('Scale GPU workers'), blocks: [section(0)], ...over });
const open = (view: Record<string, unknown>) => client.views.open({ trigger_id: issueTrigger(emu, USER), view: view as never });
const firstMessage = async (view: Record<string, unknown>) => (await slackError(open(view))).response_metadata?.messages?.[0];

describe('views.open', () => {
  it('opens a valid modal for the person whose trigger it is, and returns it as Slack does', async () => {
    const res = await open(modal({ callback_id: 'form', private_metadata: '{"a":1}' }));
    expect(res.view).toMatchObject({ type: 'modal', callback_id: 'form', private_metadata: '{"a":1}', title: text('Scale GPU workers'), app_id: emu.appId, bot_id: emu.botId });
    expect(res.view?.id).toMatch(/^V/);
    expect(emu.topModal(USER)?.id).toBe(res.view?.id);
  });

  it('holds a view to 100 blocks (a message holds 50)', async () => {
    expect((await open(modal({ blocks: Array.from({ length: 100 }, (_, i) => section(i)) }))).ok).toBe(true);
    expect(await firstMessage(modal({ blocks: Array.from({ length: 101 }, (_, i) => section(i)) }))).toBe('[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]');
  });

  it.each([
    ['a title of 25 characters', { title: text('x'.repeat(25)) }, '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'],
    ['a submit of 25 characters', { submit: text('x'.repeat(25)) }, '[ERROR] must be less than 25 characters [json-pointer:/view/submit/text]'],
    ['a close of 25 characters', { close: text('x'.repeat(25)) }, '[ERROR] must be less than 25 characters [json-pointer:/view/close/text]'],
    ['no title', { title: undefined }, '[ERROR] missing required field: title [json-pointer:/view]'],
    ['a mrkdwn title', { title: { type: 'mrkdwn', text: 'x' } }, '[ERROR] must be a valid enum value [json-pointer:/view/title/type]'],
    ['private_metadata of 3001 characters', { private_metadata: 'x'.repeat(3001) }, '[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]'],
    ['a callback_id of 256 characters', { callback_id: 'x'.repeat(256) }, '[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]'],
    ['a block_id of 256 characters', { blocks: [{ ...section(0), block_id: 'b'.repeat(256) }] }, '[ERROR] must be less than 256 characters [json-pointer:/view/blocks/0/block_id]'],
    [
      'an input without a submit',
      { blocks: [{ type: 'input', label: text('Reason'), element: { type: 'plain_text_input', action_id: 'reason' } }] },
      '[ERROR] missing required field: submit [json-pointer:/view]',
    ],
    [
      '101 options in a static select',
      { submit: text('Go'), blocks: [{ type: 'input', label: text('Pod'), element: { type: 'static_select', action_id: 'pod', options: Array.from({ length: 101 }, (_, i) => ({ text: text(`p${i}`), value: `p${i}` })) } }] },
      '[ERROR] no more than 100 items allowed [json-pointer:/view/blocks/0/element/options]',
    ],
    [
      'an action_id of 256 characters',
      { submit: text('Go'), blocks: [{ type: 'input', label: text('Reason'), element: { type: 'plain_text_input', action_id: 'a'.repeat(256) } }] },
      '[ERROR] must be less than 256 characters [json-pointer:/view/blocks/0/element/action_id]',
    ],
  ])('refuses %s: invalid_arguments naming it', async (_name, over, message) => {
    const error = await slackError(open(modal(over)));
    expect(error.error).toBe('invalid_arguments');
    expect(error.response_metadata?.messages).toContain(message);
  });

  it('takes a trigger once, within 3 s, and only one the workspace handed out', async () => {
    const trigger = issueTrigger(emu, USER);
    expect((await client.views.open({ trigger_id: trigger, view: modal() as never })).ok).toBe(true);
    expect((await slackError(client.views.open({ trigger_id: trigger, view: modal() as never }))).error).toBe('exchanged_trigger_id');
    const late = issueTrigger(emu, USER);
    clockMs += 3001;
    expect((await slackError(client.views.open({ trigger_id: late, view: modal() as never }))).error).toBe('expired_trigger_id');
    expect((await slackError(client.views.open({ trigger_id: '12345.98765.abcdef', view: modal() as never }))).error).toBe('invalid_trigger_id');
  });

  it('answers not_authed without a token', async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: emu.apiUrl, logger: captureLogger(), retryConfig: { retries: 0 } });
    expect((await slackError(anonymous.views.open({ trigger_id: issueTrigger(emu, USER), view: modal() as never }))).error).toBe('not_authed');
  });
});

describe('views.update and views.push', () => {
  it('updates an open modal by id, refusing a stale hash', async () => {
    const opened = (await open(modal())).view as { id: string; hash: string };
    const updated = await client.views.update({ view_id: opened.id, hash: opened.hash, view: modal({ title: text('Updated') }) as never });
    expect(updated.view?.title).toEqual(text('Updated'));
    expect((await slackError(client.views.update({ view_id: opened.id, hash: opened.hash, view: modal() as never }))).error).toBe('hash_conflict');
    expect((await slackError(client.views.update({ view_id: 'V0NOSUCH', view: modal() as never }))).error).toBe('not_found');
  });

  it('stacks at most 3 modals', async () => {
    await open(modal());
    for (let i = 0; i < 2; i++) expect((await client.views.push({ trigger_id: issueTrigger(emu, USER), view: modal() as never })).ok).toBe(true);
    expect((await slackError(client.views.push({ trigger_id: issueTrigger(emu, USER), view: modal() as never }))).error).toBe('push_limit_reached');
  });
});

describe('views.publish', () => {
  it("publishes a person's Home tab, up to 100 blocks, and only a home view", async () => {
    const res = await client.views.publish({ user_id: USER, view: { type: 'home', blocks: Array.from({ length: 100 }, (_, i) => section(i)) } as never });
    expect(res.view?.type).toBe('home');
    expect(emu.homeOf(USER)?.id).toBe(res.view?.id);
    expect((await slackError(client.views.publish({ user_id: USER, view: { type: 'home', blocks: Array.from({ length: 101 }, (_, i) => section(i)) } as never }))).error).toBe('invalid_arguments');
    expect((await slackError(client.views.publish({ user_id: USER, view: modal() as never }))).response_metadata?.messages).toContain('[ERROR] must be a valid enum value [json-pointer:/view/type]');
    expect((await slackError(client.views.publish({ user_id: 'not-a-user', view: { type: 'home', blocks: [] } as never }))).error).toBe('user_not_found');
  });
});
