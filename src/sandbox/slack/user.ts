// Playing the user: the request bodies Slack sends to an app for a slash command and a button click,
// and Slack's request signing. Field sets follow real captures in test/fixtures/captured/slack
// (bolt-python request bodies, python-slack-sdk Socket Mode envelopes).

import { createHmac, randomBytes } from 'node:crypto';
import type { SlackWorkspace } from './workspace.js';
import type { ButtonClickInput, HttpResult, ReactionInput, RecordedEphemeral, RecordedMessage, SignOpts, SlashCommandInput } from './types.js';

/** The deprecated verification token Slack still puts in every body. */
export const VERIFICATION_TOKEN = 'emulator-verification-token';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A trigger_id for an interaction of `user`: it opens one view, within limits.triggerTtlMs. */
export function issueTrigger(ws: SlackWorkspace, user: string): string {
  const id = `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
  ws.triggers.set(id, { user, issuedAt: ws.now(), used: false });
  return id;
}

/**
 * Slash command fields, in the order of the captured body. Slack sends every value as a string, over
 * HTTP as form fields and over Socket Mode as the same fields in a JSON object.
 */
export function slashCommandFields(ws: SlackWorkspace, cmd: SlashCommandInput, responseUrl: string): Record<string, string> {
  return {
    token: VERIFICATION_TOKEN,
    team_id: ws.teamId,
    team_domain: ws.teamDomain,
    channel_id: cmd.channel,
    channel_name: cmd.channelName ?? ws.channelName(cmd.channel),
    user_id: cmd.user,
    user_name: cmd.userName ?? ws.userProfile(cmd.user).name,
    command: cmd.command ?? '/vlinders',
    text: cmd.text,
    ...(ws.enterprise ? { enterprise_id: ws.enterprise.id, enterprise_name: ws.enterprise.name } : {}),
    api_app_id: ws.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: issueTrigger(ws, cmd.user),
  };
}

/**
 * What a Slack client sends for the text a person typed after a command whose should_escape is
 * on (manifest.json): &, < and > as HTML entities, and an @name or #channel the workspace knows
 * as the mention the person would have picked from Slack's list (<@U…|name>, <#C…|name>).
 * Names the workspace doesn't know stay as typed, as Slack leaves them.
 */
export function commandTextAsSent(ws: SlackWorkspace, typed: string): string {
  const escaped = typed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(/(^|[\s'"(])([@#])([a-z0-9][a-z0-9._-]*)/gi, (whole, before: string, sigil: string, name: string) => {
    if (sigil === '@') {
      const id = [...ws.users].find(([, profile]) => profile.name === name)?.[0];
      return id ? `${before}<@${id}|${name}>` : whole;
    }
    const id = [...ws.conversations.values()].find((c) => c.name === name && (c.type === 'public_channel' || c.type === 'private_channel'))?.id;
    return id ? `${before}<#${id}|${name}>` : whole;
  });
}

/** A response_url shaped like Slack's (hooks.slack.com/commands|actions/T/N/secret) on this server. */
export function newResponseUrl(
  ws: SlackWorkspace,
  baseUrl: string,
  kind: 'commands' | 'actions',
  target: { channel: string; user: string; messageTs?: string; threadTs?: string },
): string {
  const id = `${kind}/${ws.teamId}/${ws.nextId('')}/${randomBytes(12).toString('hex')}`;
  ws.responseTargets.set(id, { ...target, issuedAt: ws.now(), uses: 0 });
  return `${baseUrl}/${id}`;
}

/** A button the emulator holds, and the block holding it. */
export interface HeldButton {
  blockId: string;
  element: Record<string, unknown>;
}

/** Every button in a message's blocks, with the block_id of the block holding it. */
export function buttonsOf(blocks: unknown[] | undefined): HeldButton[] {
  const found: HeldButton[] = [];
  (blocks ?? []).forEach((block, i) => {
    if (!isObject(block)) return;
    // Slack gives a block without a block_id one of its own; the emulator's is stable per position.
    const blockId = typeof block.block_id === 'string' ? block.block_id : `emulator-block-${i}`;
    for (const el of [...(Array.isArray(block.elements) ? block.elements : []), block.accessory]) {
      if (isObject(el) && el.type === 'button') found.push({ blockId, element: el });
    }
  });
  return found;
}

const labelOf = (el: Record<string, unknown>): string | undefined => (isObject(el.text) && typeof el.text.text === 'string' ? el.text.text : undefined);

/**
 * The button a click lands on: in a message the workspace holds, or in an ephemeral message shown to
 * the clicker, matched by action_id or by label. A button that isn't there can't be clicked.
 */
export function heldButton(ws: SlackWorkspace, click: ButtonClickInput): { button: HeldButton; message?: RecordedMessage; ephemeral?: RecordedEphemeral } {
  const message = ws.findMessage(click.channel, click.messageTs);
  const ephemeral = message
    ? undefined
    : ws.ephemerals.find((e) => e.channel === click.channel && e.message_ts === click.messageTs && e.user === click.user);
  if (!message && !ephemeral) throw new Error(`no message ${click.messageTs} in ${click.channel} that ${click.user} can see`);
  const buttons = buttonsOf((message ?? ephemeral)?.blocks);
  const byId = buttons.filter((b) => b.element.action_id === click.button);
  const matches = byId.length > 0 ? byId : buttons.filter((b) => labelOf(b.element) === click.button);
  if (matches.length !== 1) {
    const shown = buttons.map((b) => `${String(b.element.action_id)} "${labelOf(b.element) ?? ''}"`).join(', ') || 'none';
    throw new Error(`${matches.length === 0 ? 'no' : 'more than one'} button "${click.button}" on message ${click.messageTs} (buttons: ${shown})`);
  }
  return { button: matches[0] as HeldButton, ...(message ? { message } : {}), ...(ephemeral ? { ephemeral } : {}) };
}

/**
 * A block_actions payload for a button click. A click on a recorded message carries that message
 * (as the clicker's client shows it now); a click on an ephemeral message carries is_ephemeral and no
 * message, as Slack does. The action is the button's own: its action_id, value, block_id, text, style.
 */
export function blockActionsPayload(ws: SlackWorkspace, click: ButtonClickInput, responseUrl: string): Record<string, unknown> {
  const { button, message, ephemeral } = heldButton(ws, click);
  const element = button.element;
  const profile = ws.userProfile(click.user);
  const actionTs = ws.nextTs();
  const threadTs = message?.thread_ts ?? ephemeral?.thread_ts;
  return {
    type: 'block_actions',
    user: { id: click.user, username: profile.name, name: profile.name, team_id: ws.teamId },
    api_app_id: ws.appId,
    token: VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: click.messageTs,
      channel_id: click.channel,
      is_ephemeral: ephemeral !== undefined,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    },
    trigger_id: issueTrigger(ws, click.user),
    team: {
      id: ws.teamId,
      domain: ws.teamDomain,
      ...(ws.enterprise ? { enterprise_id: ws.enterprise.id, enterprise_name: ws.enterprise.name } : {}),
    },
    enterprise: ws.enterprise ? { id: ws.enterprise.id, name: ws.enterprise.name } : null,
    is_enterprise_install: false,
    channel: { id: click.channel, name: ws.channelName(click.channel) },
    ...(message ? { message: ws.messageJson(message) } : {}),
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        action_id: element.action_id,
        block_id: button.blockId,
        // Slack fills in a plain_text object's emoji flag (default true).
        text: isObject(element.text) && element.text.type === 'plain_text' ? { emoji: true, ...element.text } : element.text,
        // A button without a value sends none, as Slack does.
        ...(typeof element.value === 'string' ? { value: element.value } : {}),
        ...(typeof element.style === 'string' ? { style: element.style } : {}),
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/**
 * The Events API envelope Slack wraps an event in (event_callback), as delivered over HTTP and,
 * as the payload of an `events_api` envelope, over Socket Mode.
 */
export function eventCallback(ws: SlackWorkspace, event: Record<string, unknown>): Record<string, unknown> {
  const eventTs = ws.nextTs();
  return {
    token: VERIFICATION_TOKEN,
    team_id: ws.teamId,
    ...(ws.enterprise ? { enterprise_id: ws.enterprise.id } : {}),
    api_app_id: ws.appId,
    event: { ...event, event_ts: eventTs },
    type: 'event_callback',
    event_id: `Ev${ws.nextId('').slice(1)}${randomBytes(4).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Number(eventTs)),
    authorizations: [{ enterprise_id: ws.enterprise?.id ?? null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(12).toString('base64url')}`,
  };
}

/**
 * A reaction_added event for `user` adding `reaction` to a message, or why Slack would send
 * none: the app must subscribe to it (with reactions:read) and be in the conversation.
 */
export function reactionEvent(ws: SlackWorkspace, r: ReactionInput): Record<string, unknown> | string {
  const c = ws.conversations.get(r.channel);
  if (!c) throw new Error(`no conversation ${r.channel}`);
  if (!ws.isMember(c, r.user)) throw new Error(`${r.user} is not in ${r.channel}, so can't react there`);
  if (c.archived) throw new Error(`${r.channel} is archived: nobody reacts there`);
  const message = ws.findMessage(r.channel, r.ts);
  if (!message) throw new Error(`no message ${r.ts} in ${r.channel}`);
  if (!ws.botEvents.has('reaction_added')) return 'the app does not subscribe to reaction_added';
  if (!ws.scopes.has('reactions:read')) return 'reaction_added needs the reactions:read scope';
  if (!c.bot) return 'the bot is not in the conversation';
  return eventCallback(ws, {
    type: 'reaction_added',
    user: r.user,
    reaction: r.reaction,
    item_user: message.user,
    item: { type: 'message', channel: r.channel, ts: r.ts },
  });
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, Slack's request signature. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * POSTs a body to the app's request URL the way Slack does: signed, form-encoded (Events API
 * bodies: JSON), optionally a redelivery.
 */
export async function postSigned(url: string, body: string, secret: string, opts: SignOpts = {}, contentType = 'application/x-www-form-urlencoded'): Promise<HttpResult> {
  const timestamp = Math.floor(Date.now() / 1000) + (opts.timestampSkewSeconds ?? 0);
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
  };
  const mode = opts.signature ?? 'valid';
  if (mode !== 'none') {
    // A 'bad' signature is a correct HMAC made with the wrong secret, as a forged request would be.
    const key = mode === 'valid' ? secret : `${secret}-wrong`;
    headers['X-Slack-Request-Timestamp'] = String(timestamp);
    headers['X-Slack-Signature'] = sign(key, timestamp, body);
  }
  if (opts.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    headers['X-Slack-Retry-Reason'] = 'http_timeout';
  }
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text, ms: Math.round(performance.now() - started) };
}
