// Views: modals and the Home tab. The Web API methods (views.open, views.push, views.update,
// views.publish) held to docs.slack.dev/reference/methods/views.* and /surfaces, and what a person
// does with a view the workspace holds: fill in its inputs, submit it, close it, type into an
// external select, click its buttons. A person can only touch what a held view shows.

import { jsonArg, str, type Args } from './args.js';
import { validateBlocks, TEXT_OBJECT, type Surface } from './block-kit.js';
import { VERIFICATION_TOKEN } from './user.js';
import type { ApiBody, SlackWorkspace } from './workspace.js';

export type ViewType = 'modal' | 'home';

/** What a person entered into one input: Slack's state.values entry for its element. */
export type InputState = Record<string, unknown> & { type: string };

export interface HeldView {
  id: string;
  type: ViewType;
  /** Whose view it is: a modal is shown to the person whose trigger opened it; a Home tab to its user. */
  user: string;
  hash: string;
  /** The view as the app sent it. */
  view: Record<string, unknown>;
  /** state.values: block_id → action_id → the entered value. */
  values: Record<string, Record<string, InputState>>;
  rootId: string;
  previousId?: string;
  /** The options the app last answered a block_suggestion with, per action_id: a person picks among those. */
  suggested: Map<string, Array<Record<string, unknown>>>;
  /** What the app's last response_action: errors said, by block_id. */
  errors?: Record<string, string>;
}

/** Slack's limits on a view object (docs.slack.dev/reference/views). */
export const VIEW_LIMITS = { title: 24, submit: 24, close: 24, privateMetadata: 3000, callbackId: 255, externalId: 255, modalStack: 3 } as const;

const VIEW_FIELDS: Record<ViewType, readonly string[]> = {
  modal: ['type', 'title', 'blocks', 'close', 'submit', 'private_metadata', 'callback_id', 'clear_on_close', 'notify_on_close', 'external_id', 'submit_disabled'],
  home: ['type', 'blocks', 'private_metadata', 'callback_id', 'external_id'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (error: string, extra: Record<string, unknown> = {}): ApiBody => ({ ok: false, error, ...extra });
const invalid = (messages: string[]): ApiBody => fail('invalid_arguments', { response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) } });

/** Errors in Slack's `<complaint> [json-pointer:/view/...]` form; empty when Slack would take the view. */
export function validateView(view: unknown, expected?: ViewType): string[] {
  const at = (p: string) => ` [json-pointer:/view${p}]`;
  if (!isObject(view)) return [`must provide an object${at('')}`];
  const type = view.type;
  if (type !== 'modal' && type !== 'home') return [`must be a valid enum value${at('/type')}`];
  const errors: string[] = [];
  if (expected && type !== expected) errors.push(`must be a valid enum value${at('/type')}`);
  for (const key of Object.keys(view)) if (!VIEW_FIELDS[type].includes(key)) errors.push(`invalid additional property: ${key}${at('')}`);
  const plainText = (key: 'title' | 'submit' | 'close', max: number, required: boolean) => {
    const v = view[key];
    if (v === undefined) {
      if (required) errors.push(`missing required field: ${key}${at('')}`);
      return;
    }
    if (!isObject(v) || v.type !== 'plain_text') return void errors.push(`must be a valid enum value${at(`/${key}/type`)}`);
    for (const k of Object.keys(v)) if (!(TEXT_OBJECT.plain_text as readonly string[]).includes(k)) errors.push(`invalid additional property: ${k}${at(`/${key}`)}`);
    if (typeof v.text !== 'string' || v.text.length === 0) return void errors.push(`must be more than 0 characters${at(`/${key}/text`)}`);
    if (v.text.length > max) errors.push(`must be less than ${max + 1} characters${at(`/${key}/text`)}`);
  };
  const string = (key: string, max: number) => {
    const v = view[key];
    if (v === undefined) return;
    if (typeof v !== 'string') return void errors.push(`must provide a string${at(`/${key}`)}`);
    if (v.length > max) errors.push(`must be less than ${max + 1} characters${at(`/${key}`)}`);
  };
  for (const key of ['clear_on_close', 'notify_on_close', 'submit_disabled']) {
    if (view[key] !== undefined && typeof view[key] !== 'boolean') errors.push(`must provide a boolean${at(`/${key}`)}`);
  }
  string('private_metadata', VIEW_LIMITS.privateMetadata);
  string('callback_id', VIEW_LIMITS.callbackId);
  string('external_id', VIEW_LIMITS.externalId);
  if (!Array.isArray(view.blocks)) {
    errors.push(`${view.blocks === undefined ? 'missing required field: blocks' : 'must provide an array'}${at(view.blocks === undefined ? '' : '/blocks')}`);
    return errors;
  }
  if (type === 'modal') {
    plainText('title', VIEW_LIMITS.title, true);
    plainText('close', VIEW_LIMITS.close, false);
    // A modal with inputs must say how to submit them.
    const hasInput = view.blocks.some((b) => isObject(b) && b.type === 'input');
    plainText('submit', VIEW_LIMITS.submit, hasInput);
  }
  errors.push(...validateBlocks(view.blocks, { surface: type as Surface, root: '/view/blocks' }));
  return errors;
}

/** The view object as Slack returns it from views.* and puts it in payloads. */
export function viewJson(ws: SlackWorkspace, held: HeldView): Record<string, unknown> {
  const v = held.view;
  return {
    id: held.id,
    team_id: ws.teamId,
    type: held.type,
    blocks: v.blocks,
    private_metadata: typeof v.private_metadata === 'string' ? v.private_metadata : '',
    callback_id: typeof v.callback_id === 'string' ? v.callback_id : '',
    state: { values: held.values },
    hash: held.hash,
    ...(held.type === 'modal'
      ? {
          title: v.title,
          clear_on_close: v.clear_on_close === true,
          notify_on_close: v.notify_on_close === true,
          close: v.close ?? null,
          submit: v.submit ?? null,
          previous_view_id: held.previousId ?? null,
          root_view_id: held.rootId,
        }
      : { title: { type: 'plain_text', text: 'View Title', emoji: true }, close: null, submit: null, previous_view_id: null, root_view_id: held.id }),
    app_id: ws.appId,
    external_id: typeof v.external_id === 'string' ? v.external_id : '',
    app_installed_team_id: ws.teamId,
    bot_id: ws.botId,
  };
}

/** Input blocks of a view, with the block_id and action_id Slack reports them under. */
export function inputsOf(view: Record<string, unknown>): Array<{ blockId: string; actionId: string; block: Record<string, unknown>; element: Record<string, unknown> }> {
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  const out: ReturnType<typeof inputsOf> = [];
  blocks.forEach((block, i) => {
    if (!isObject(block) || block.type !== 'input' || !isObject(block.element)) return;
    const blockId = typeof block.block_id === 'string' ? block.block_id : `emulator-block-${i}`;
    const actionId = typeof block.element.action_id === 'string' ? block.element.action_id : `emulator-action-${i}`;
    out.push({ blockId, actionId, block, element: block.element });
  });
  return out;
}

/** Every element of a view (in actions blocks, accessories, inputs) by action_id, with its block_id. */
export function elementsOf(view: Record<string, unknown>): Array<{ blockId: string; element: Record<string, unknown> }> {
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  const out: ReturnType<typeof elementsOf> = [];
  blocks.forEach((block, i) => {
    if (!isObject(block)) return;
    const blockId = typeof block.block_id === 'string' ? block.block_id : `emulator-block-${i}`;
    for (const el of [...(Array.isArray(block.elements) ? block.elements : []), block.accessory, block.element]) {
      if (isObject(el)) out.push({ blockId, element: el });
    }
  });
  return out;
}

/** The state an input starts in: its initial value, or nothing entered. */
function initialState(element: Record<string, unknown>): InputState {
  const type = String(element.type);
  switch (type) {
    case 'static_select':
    case 'external_select':
      return { type, selected_option: isObject(element.initial_option) ? element.initial_option : null };
    case 'users_select':
      return { type, selected_user: typeof element.initial_user === 'string' ? element.initial_user : null };
    case 'conversations_select':
      return { type, selected_conversation: typeof element.initial_conversation === 'string' ? element.initial_conversation : null };
    default:
      return { type, value: typeof element.initial_value === 'string' ? element.initial_value : null };
  }
}

/** Whether an input state holds nothing (Slack's client won't submit a required input left empty). */
const isEmpty = (s: InputState): boolean => [s.value, s.selected_option, s.selected_user, s.selected_conversation].every((v) => v === null || v === undefined || v === '');

export function freshValues(view: Record<string, unknown>, previous: HeldView['values'] = {}): HeldView['values'] {
  const values: HeldView['values'] = {};
  for (const { blockId, actionId, element } of inputsOf(view)) {
    const kept = previous[blockId]?.[actionId];
    values[blockId] = { [actionId]: kept && kept.type === element.type ? kept : initialState(element) };
  }
  return values;
}

/**
 * A person typing into or picking in a view's inputs, by action_id. What they can't do in Slack's
 * client throws: an option that isn't offered, text beyond max_length, a number out of range.
 */
export function enterValues(ws: SlackWorkspace, held: HeldView, entries: Record<string, string>): void {
  const inputs = inputsOf(held.view);
  for (const [actionId, raw] of Object.entries(entries)) {
    const input = inputs.find((i) => i.actionId === actionId);
    if (!input) throw new Error(`view ${held.id} has no input "${actionId}" (inputs: ${inputs.map((i) => i.actionId).join(', ') || 'none'})`);
    const { element, blockId } = input;
    const type = String(element.type);
    let state: InputState;
    if (type === 'static_select' || type === 'external_select') {
      const offered = type === 'static_select' ? (Array.isArray(element.options) ? element.options : []) : (held.suggested.get(actionId) ?? []);
      const option = offered.find((o): o is Record<string, unknown> => isObject(o) && o.value === raw);
      if (!option) throw new Error(`"${raw}" is not among the options ${type === 'external_select' ? 'the app suggested' : 'shown'} in ${actionId}`);
      state = { type, selected_option: option };
    } else if (type === 'users_select') {
      // Slack's client lists only the workspace's people.
      if (!/^[UW][A-Z0-9]+$/.test(raw) || !ws.knowsUser(raw)) throw new Error(`${raw} is not a user of the workspace`);
      state = { type, selected_user: raw };
    } else if (type === 'conversations_select') {
      if (!ws.conversations.has(raw)) throw new Error(`${raw} is no conversation in the workspace`);
      state = { type, selected_conversation: raw };
    } else if (type === 'number_input') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (element.is_decimal_allowed !== true && !Number.isInteger(n))) throw new Error(`"${raw}" is not a number ${actionId} takes`);
      if (typeof element.min_value === 'string' && n < Number(element.min_value)) throw new Error(`${raw} is below ${actionId}'s minimum ${element.min_value}`);
      if (typeof element.max_value === 'string' && n > Number(element.max_value)) throw new Error(`${raw} is above ${actionId}'s maximum ${element.max_value}`);
      state = { type, value: raw };
    } else if (type === 'plain_text_input') {
      if (typeof element.max_length === 'number' && raw.length > element.max_length) throw new Error(`${actionId} takes at most ${element.max_length} characters`);
      if (typeof element.min_length === 'number' && raw.length < element.min_length) throw new Error(`${actionId} needs at least ${element.min_length} characters`);
      state = { type, value: raw };
    } else {
      throw new Error(`the emulator can't fill a ${type} (${actionId})`);
    }
    held.values[blockId] = { [actionId]: state };
  }
}

/** The required inputs a person left empty: Slack's client shows "This field is required" and sends nothing. */
export function missingInputs(held: HeldView): string[] {
  return inputsOf(held.view)
    .filter(({ block, blockId, actionId }) => block.optional !== true && isEmpty(held.values[blockId]?.[actionId] ?? { type: '' }))
    .map((i) => i.actionId);
}

const userOf = (ws: SlackWorkspace, user: string) => {
  const p = ws.userProfile(user);
  return { id: user, username: p.name, name: p.name, team_id: ws.teamId };
};

/** The fields every interactive payload carries about the workspace. */
export function teamFields(ws: SlackWorkspace): Record<string, unknown> {
  return {
    team: { id: ws.teamId, domain: ws.teamDomain, ...(ws.enterprise ? { enterprise_id: ws.enterprise.id, enterprise_name: ws.enterprise.name } : {}) },
    api_app_id: ws.appId,
    token: VERIFICATION_TOKEN,
    enterprise: ws.enterprise ? { id: ws.enterprise.id, name: ws.enterprise.name } : null,
    is_enterprise_install: false,
  };
}

export function viewSubmissionPayload(ws: SlackWorkspace, held: HeldView, trigger: string): Record<string, unknown> {
  return { type: 'view_submission', ...teamFields(ws), user: userOf(ws, held.user), trigger_id: trigger, view: viewJson(ws, held), response_urls: [] };
}

export function viewClosedPayload(ws: SlackWorkspace, held: HeldView): Record<string, unknown> {
  return { type: 'view_closed', ...teamFields(ws), user: userOf(ws, held.user), view: viewJson(ws, held), is_cleared: false };
}

export function blockSuggestionPayload(ws: SlackWorkspace, held: HeldView, blockId: string, actionId: string, value: string): Record<string, unknown> {
  return {
    type: 'block_suggestion',
    user: userOf(ws, held.user),
    container: { type: 'view', view_id: held.id },
    ...teamFields(ws),
    action_id: actionId,
    block_id: blockId,
    value,
    view: viewJson(ws, held),
  };
}

export function viewButtonPayload(ws: SlackWorkspace, held: HeldView, blockId: string, element: Record<string, unknown>, trigger: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: userOf(ws, held.user),
    container: { type: 'view', view_id: held.id },
    ...teamFields(ws),
    trigger_id: trigger,
    view: viewJson(ws, held),
    actions: [
      {
        action_id: element.action_id,
        block_id: blockId,
        text: isObject(element.text) && element.text.type === 'plain_text' ? { emoji: true, ...element.text } : element.text,
        ...(typeof element.value === 'string' ? { value: element.value } : {}),
        ...(typeof element.style === 'string' ? { style: element.style } : {}),
        type: 'button',
        action_ts: ws.nextTs(),
      },
    ],
  };
}

export function shortcutPayload(ws: SlackWorkspace, user: string, callbackId: string, trigger: string): Record<string, unknown> {
  return { type: 'shortcut', ...teamFields(ws), user: userOf(ws, user), callback_id: callbackId, trigger_id: trigger, action_ts: ws.nextTs() };
}

export function messageActionPayload(ws: SlackWorkspace, input: { user: string; channel: string; message: Record<string, unknown>; callbackId: string }, trigger: string, responseUrl: string): Record<string, unknown> {
  return {
    type: 'message_action',
    ...teamFields(ws),
    user: userOf(ws, input.user),
    channel: { id: input.channel, name: ws.channelName(input.channel) },
    callback_id: input.callbackId,
    trigger_id: trigger,
    message_ts: input.message.ts,
    message: input.message,
    response_url: responseUrl,
    action_ts: ws.nextTs(),
  };
}

/** The Events API envelope of app_home_opened, as Slack posts it (JSON) to the request URL. */
export function appHomeOpenedEvent(ws: SlackWorkspace, user: string, channel: string, home: HeldView | undefined): Record<string, unknown> {
  const eventTs = ws.nextTs();
  return {
    token: VERIFICATION_TOKEN,
    team_id: ws.teamId,
    api_app_id: ws.appId,
    event: { type: 'app_home_opened', user, channel, tab: 'home', ...(home ? { view: viewJson(ws, home) } : {}), event_ts: eventTs },
    type: 'event_callback',
    event_id: `Ev${ws.nextId('')}`,
    event_time: Math.floor(Number(eventTs)),
    authorizations: [{ enterprise_id: null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

/** The Web API's views.* methods. */
export function viewMethods(ws: SlackWorkspace): Record<string, (args: Args) => ApiBody> {
  const readView = (args: Args, expected: ViewType): { view: Record<string, unknown> } | { error: ApiBody } => {
    const parsed = jsonArg(args, 'view');
    if (!parsed.ok) return { error: fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] failed to parse view: invalid json'] } }) };
    if (parsed.value === undefined) return { error: invalid(['missing required field: view']) };
    const errors = validateView(parsed.value, expected);
    if (errors.length > 0) return { error: invalid(errors) };
    return { view: parsed.value as Record<string, unknown> };
  };
  /** A trigger_id is good once, for 3 s after the interaction that brought it. */
  const takeTrigger = (args: Args): { user: string } | { error: ApiBody } => {
    const id = str(args, 'trigger_id');
    if (!id) return { error: invalid(['missing required field: trigger_id']) };
    const trigger = ws.triggers.get(id);
    if (!trigger) return { error: fail('invalid_trigger_id') };
    if (trigger.used) return { error: fail('exchanged_trigger_id') };
    if (ws.now() - trigger.issuedAt > ws.limits.triggerTtlMs) return { error: fail('expired_trigger_id') };
    trigger.used = true;
    return { user: trigger.user };
  };
  const hold = (type: ViewType, user: string, view: Record<string, unknown>, rootId?: string, previousId?: string, previous?: HeldView): HeldView => {
    const id = ws.nextId('V');
    const held: HeldView = { id, type, user, hash: ws.nextTs(), view, values: freshValues(view), rootId: rootId ?? id, ...(previousId ? { previousId } : {}), suggested: previous?.suggested ?? new Map() };
    ws.views.set(id, held);
    return held;
  };
  const externalTaken = (view: Record<string, unknown>, except?: string) =>
    typeof view.external_id === 'string' && [...ws.views.values()].some((v) => v.id !== except && v.view.external_id === view.external_id);

  return {
    'views.open': (args) => {
      const v = readView(args, 'modal');
      if ('error' in v) return v.error;
      const t = takeTrigger(args);
      if ('error' in t) return t.error;
      if (externalTaken(v.view)) return fail('duplicate_external_id');
      const held = hold('modal', t.user, v.view);
      ws.modalStacks.set(t.user, [held.id]);
      return { ok: true, view: viewJson(ws, held) };
    },

    'views.push': (args) => {
      const v = readView(args, 'modal');
      if ('error' in v) return v.error;
      const t = takeTrigger(args);
      if ('error' in t) return t.error;
      const stack = ws.modalStacks.get(t.user) ?? [];
      const top = stack.length > 0 ? ws.views.get(stack[stack.length - 1] as string) : undefined;
      // Only a modal that is open can have one pushed on it, and at most 3 stack up.
      if (!top) return fail('not_found');
      if (stack.length >= VIEW_LIMITS.modalStack) return fail('push_limit_reached');
      if (externalTaken(v.view)) return fail('duplicate_external_id');
      const held = hold('modal', t.user, v.view, top.rootId, top.id);
      stack.push(held.id);
      return { ok: true, view: viewJson(ws, held) };
    },

    'views.update': (args) => {
      const viewId = str(args, 'view_id');
      const externalId = str(args, 'external_id');
      if (!viewId && !externalId) return invalid(['must provide one of: view_id, external_id']);
      const held = viewId ? ws.views.get(viewId) : [...ws.views.values()].find((h) => h.view.external_id === externalId);
      if (!held || !ws.isShown(held)) return fail('not_found');
      const v = readView(args, held.type);
      if ('error' in v) return v.error;
      const hash = str(args, 'hash');
      if (hash !== undefined && hash !== held.hash) return fail('hash_conflict');
      if (externalTaken(v.view, held.id)) return fail('duplicate_external_id');
      held.view = v.view;
      held.values = freshValues(v.view, held.values);
      held.hash = ws.nextTs();
      delete held.errors;
      return { ok: true, view: viewJson(ws, held) };
    },

    'views.publish': (args) => {
      const user = str(args, 'user_id');
      if (!user) return invalid(['missing required field: user_id']);
      if (!/^[UW][A-Z0-9]+$/.test(user) || user === ws.botUserId) return fail('user_not_found');
      const v = readView(args, 'home');
      if ('error' in v) return v.error;
      const current = ws.homes.get(user);
      const held = current ? ws.views.get(current) : undefined;
      const hash = str(args, 'hash');
      if (hash !== undefined && held && hash !== held.hash) return fail('hash_conflict');
      if (held) {
        held.view = v.view;
        held.values = freshValues(v.view, held.values);
        held.hash = ws.nextTs();
        return { ok: true, view: viewJson(ws, held) };
      }
      const fresh = hold('home', user, v.view);
      ws.homes.set(user, fresh.id);
      return { ok: true, view: viewJson(ws, fresh) };
    },
  };
}
