// Playing the user: the request bodies Slack sends to an app for a slash command and a button click,
// and Slack's request signing. Field sets follow real captures in test/fixtures/captured/slack
// (bolt-python request bodies, python-slack-sdk Socket Mode envelopes).

import { createHmac, randomBytes } from 'node:crypto';
import type { SlackWorkspace } from './workspace.js';
import type { ButtonClickInput, HttpResult, SignOpts, SlashCommandInput } from './types.js';

/** The deprecated verification token Slack still puts in every body. */
export const VERIFICATION_TOKEN = 'emulator-verification-token';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
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
    trigger_id: triggerId(),
  };
}

/** A response_url shaped like Slack's (hooks.slack.com/commands|actions/T/N/secret) on this server. */
export function newResponseUrl(
  ws: SlackWorkspace,
  baseUrl: string,
  kind: 'commands' | 'actions',
  target: { channel: string; user: string; messageTs?: string; threadTs?: string },
): string {
  const id = `${kind}/${ws.teamId}/${ws.nextId('')}/${randomBytes(12).toString('hex')}`;
  ws.responseTargets.set(id, target);
  return `${baseUrl}/${id}`;
}

/** Finds the element with `actionId` in a message's blocks, and the block holding it. */
export function findAction(blocks: unknown[] | undefined, actionId: string): { blockId?: string; element: Record<string, unknown> } | undefined {
  for (const block of blocks ?? []) {
    if (!isObject(block)) continue;
    const candidates = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory];
    for (const el of candidates) {
      if (isObject(el) && el.action_id === actionId) {
        return { ...(typeof block.block_id === 'string' ? { blockId: block.block_id } : {}), element: el };
      }
    }
  }
  return undefined;
}

/**
 * A block_actions payload for a button click. A click on a recorded message carries that message
 * (as the clicker's client shows it now); a click on an ephemeral message carries is_ephemeral and no
 * message, as Slack does. The button's text, style and block_id come from the recorded blocks.
 */
export function blockActionsPayload(ws: SlackWorkspace, click: ButtonClickInput, responseUrl: string): Record<string, unknown> {
  const message = ws.findMessage(click.channel, click.messageTs);
  const ephemeral = message
    ? undefined
    : ws.ephemerals.find((e) => e.channel === click.channel && e.message_ts === click.messageTs);
  const found = findAction(message?.blocks ?? ephemeral?.blocks, click.actionId);
  const element = found?.element;
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
    trigger_id: triggerId(),
    team: {
      id: ws.teamId,
      domain: ws.teamDomain,
      ...(ws.enterprise ? { enterprise_id: ws.enterprise.id, enterprise_name: ws.enterprise.name } : {}),
    },
    enterprise: ws.enterprise ? { id: ws.enterprise.id, name: ws.enterprise.name } : null,
    is_enterprise_install: false,
    channel: { id: click.channel, name: ws.channelName(click.channel) },
    ...(ephemeral ? {} : { message: message ? ws.messageJson(message) : { type: 'message', ts: click.messageTs, text: '' } }),
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        action_id: click.actionId,
        block_id: click.blockId ?? found?.blockId ?? 'emulator-block',
        text: isObject(element?.text) ? element.text : { type: 'plain_text', text: click.value, emoji: true },
        value: click.value,
        ...(typeof element?.style === 'string' ? { style: element.style } : {}),
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, Slack's request signature. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** POSTs a body to the app's request URL the way Slack does: signed, form-encoded, optionally a redelivery. */
export async function postSigned(url: string, body: string, secret: string, opts: SignOpts = {}): Promise<HttpResult> {
  const timestamp = Math.floor(Date.now() / 1000) + (opts.timestampSkewSeconds ?? 0);
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
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
