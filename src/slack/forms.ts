// Modals that collect a command's arguments: `/vlinders scale-gpu` with no argument, the Home
// tab's command buttons, the message shortcuts. A form only gathers words: its submission runs
// the command through the engine like typed text (parse, RBAC, plan, confirmation card).
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Command } from '../core/command.js';
import { tokenize } from '../core/args.js';
import type { Config } from '../config/schema.js';
import { vlindersNamespaces } from '../config/schema.js';
import type { Services } from '../core/services.js';
import { desiredWorkers, resolveRayCluster } from '../ray/raycluster.js';
import { truncate } from './mrkdwn.js';

/** The callback_id of every command form; private_metadata says which command and where. */
export const FORM_CALLBACK = 'vlinders_form';

/** Slack's limits on a modal: title, submit and close 24 characters, 100 options in a static select. */
export const MODAL_LIMITS = { title: 24, button: 24, options: 100, optionText: 75, optionValue: 150, privateMetadata: 3000 } as const;

/** Where a form came from and where its command runs: the conversation, and a thread in it. */
export interface FormMeta {
  command: string;
  /** The conversation the command runs in; absent when the form asks for one (opened from Home). */
  channel?: string;
  threadTs?: string;
}

type PlainText = { type: 'plain_text'; text: string; emoji?: boolean };
type Option = { text: PlainText; value: string };
type ViewBlock = Record<string, unknown> & { type: string };
export interface ModalView {
  type: 'modal';
  callback_id: string;
  title: PlainText;
  submit: PlainText;
  close: PlainText;
  private_metadata: string;
  blocks: ViewBlock[];
}

const plain = (text: string, max: number): PlainText => ({ type: 'plain_text', text: truncate(text, max) });
export const option = (text: string, value: string): Option => ({ text: plain(text, MODAL_LIMITS.optionText), value });

/** What a form needs to know, read as the person who opens it. */
export interface FormLookup {
  read<T>(work: (on: { services: Services; config: Config }) => Promise<T>): Promise<T>;
  /** The person's own user id (the incident commander by default). */
  user: string;
}

/**
 * A choice: a static select while the options fit in one (100), else an external select with
 * type-ahead. Every input's action_id is its block_id.
 */
function choice(blockId: string, label: string, options: Option[], initial?: string): ViewBlock {
  const initialOption = options.find((o) => o.value === initial);
  const element =
    options.length <= MODAL_LIMITS.options
      ? { type: 'static_select', action_id: blockId, options, ...(initialOption ? { initial_option: initialOption } : {}) }
      : { type: 'external_select', action_id: blockId, min_query_length: 1, placeholder: plain(`Type to search ${options.length} names`, 150) };
  return { type: 'input', block_id: blockId, label: plain(label, 2000), element };
}

const textInput = (blockId: string, label: string, opts: { max: number; optional?: boolean; initial?: string; hint?: string; placeholder?: string }): ViewBlock => ({
  type: 'input',
  block_id: blockId,
  label: plain(label, 2000),
  ...(opts.optional ? { optional: true } : {}),
  ...(opts.hint ? { hint: plain(opts.hint, 2000) } : {}),
  element: {
    type: 'plain_text_input',
    action_id: blockId,
    max_length: opts.max,
    ...(opts.initial ? { initial_value: truncate(opts.initial, opts.max) } : {}),
    ...(opts.placeholder ? { placeholder: plain(opts.placeholder, 150) } : {}),
  },
});

const context = (text: string): ViewBlock => ({ type: 'context', elements: [{ type: 'plain_text', text: truncate(text, 2000) }] });

/** The block that asks where to run, for a form opened outside a conversation (the Home tab). */
const CHANNEL_BLOCK = 'channel';
function channelInput(initial: string | undefined): ViewBlock {
  return {
    type: 'input',
    block_id: CHANNEL_BLOCK,
    label: plain('Run it in (the plan and its thread go there)', 2000),
    element: { type: 'conversations_select', action_id: CHANNEL_BLOCK, filter: { include: ['public', 'private'], exclude_bot_users: true }, ...(initial ? { initial_conversation: initial } : {}) },
  };
}

/** Deployments and pods of the Vlinders namespaces, as `namespace/name` (the option values). */
export async function workloadNames(services: Services, config: Config, kind: 'deployments' | 'pods'): Promise<string[]> {
  const kube = services.kube();
  const names: string[] = [];
  for (const namespace of vlindersNamespaces(config.namespaces)) {
    const items: AsyncIterable<V1Deployment | V1Pod> =
      kind === 'pods'
        ? kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, ...page }))
        : kube.list({ verb: 'list', resource: 'deployments.apps', namespace }, (page) => kube.apps.listNamespacedDeployment({ namespace, ...page }));
    for await (const item of items) if (item.metadata?.name) names.push(`${namespace}/${item.metadata.name}`);
  }
  return names.filter((n) => n.length <= MODAL_LIMITS.optionValue).sort();
}

/** The options of a type-ahead: names containing the query, at most 100 (Slack shows no more). */
export function matchingOptions(names: readonly string[], query: string): Option[] {
  const q = query.trim().toLowerCase();
  return names
    .filter((n) => n.toLowerCase().includes(q))
    .slice(0, MODAL_LIMITS.options)
    .map((n) => option(n, n));
}

interface FormSpec {
  title: string;
  submit: string;
  /** The form's blocks, from what it reads as the person. */
  blocks(lookup: FormLookup, command: Command, prefill: Prefill): Promise<ViewBlock[]>;
  /** The submitted values as the command's words. */
  words(values: Values): string[];
  /** Which input an error message belongs on (the first input when none matches). */
  blame: Array<[blockId: string, pattern: RegExp]>;
  /** The names an external select offers, for type-ahead. */
  names?(lookup: FormLookup): Promise<string[]>;
}

/** What a shortcut fills in from its message. */
export interface Prefill {
  title?: string;
}

/** state.values of a submitted view: block_id → action_id → the entered value. */
export type Values = Record<string, Record<string, { type: string; value?: string | null; selected_option?: { value: string } | null; selected_user?: string | null; selected_conversation?: string | null }>>;

/** One input's submitted value, whatever its element. */
export function valueOf(values: Values, blockId: string): string | undefined {
  const entry = Object.values(values[blockId] ?? {})[0];
  const v = entry?.value ?? entry?.selected_option?.value ?? entry?.selected_user ?? entry?.selected_conversation ?? undefined;
  return v === null || v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** A form that picks one deployment or pod of the Vlinders namespaces (type-ahead beyond 100). */
function workloadForm(kind: 'deployments' | 'pods', title: string, submit: string, label: string, words: (namespace: string, name: string) => string[]): FormSpec {
  const names = (lookup: FormLookup) => lookup.read(({ services, config }) => workloadNames(services, config, kind));
  return {
    title,
    submit,
    blocks: async (lookup) => [choice('target', label, (await names(lookup)).map((n) => option(n, n)))],
    names,
    words: (values) => {
      const [namespace = '', name = ''] = (valueOf(values, 'target') ?? '/').split('/');
      return words(namespace, name);
    },
    blame: [['target', /.*/]],
  };
}

const SEVERITIES = [1, 2, 3, 4].map((n) => option(`SEV${n}${n === 1 ? ' (worst)' : ''}`, String(n)));

const FORMS: Record<string, FormSpec> = {
  'scale-gpu': {
    title: 'Scale GPU workers',
    submit: 'Show plan',
    async blocks(lookup) {
      const groups = await lookup.read(async ({ services, config }) => {
        const { raycluster } = await resolveRayCluster(services.kube(), { namespace: config.namespaces.inference, cluster: config.ray.cluster, service: config.ray.service });
        return {
          initial: config.ray.workerGroup,
          max: config.limits.maxGpuWorkers,
          groups: (raycluster.spec.workerGroupSpecs ?? []).map((g) => ({
            name: g.groupName,
            current: desiredWorkers(g),
            min: g.minReplicas ?? 0,
            max: Math.min(g.maxReplicas ?? config.limits.maxGpuWorkers, config.limits.maxGpuWorkers),
          })),
        };
      });
      return [
        choice('group', 'Worker group', groups.groups.map((g) => option(`${g.name} · ${g.current} now (${g.min}-${g.max})`, g.name)), groups.initial),
        {
          type: 'input',
          block_id: 'replicas',
          label: plain('Replicas', 2000),
          hint: plain(groups.groups.map((g) => `${g.name}: current ${g.current}, minimum ${g.min}, maximum ${g.max}`).join(' · ') || 'no worker groups', 2000),
          element: { type: 'number_input', action_id: 'replicas', is_decimal_allowed: false, min_value: '0', max_value: String(groups.max) },
        },
        textInput('reason', 'Reason', { max: 300, placeholder: 'Why, for the people approving and the audit' }),
      ];
    },
    words: (values) => [valueOf(values, 'replicas') ?? '', '--group', valueOf(values, 'group') ?? ''],
    blame: [
      ['group', /worker group|group /i],
      ['replicas', /replicas|range|worker|nothing to change|\d+ is /i],
    ],
  },
  'model update': {
    title: 'Update the model',
    submit: 'Show plan',
    async blocks() {
      return [
        textInput('model', 'Model (Hugging Face id)', { max: 200, placeholder: 'org/name, e.g. meta-llama/Llama-3.1-8B-Instruct' }),
        textInput('revision', 'Revision', { max: 100, optional: true, hint: 'A commit or tag; the newest when empty' }),
        textInput('reason', 'Reason', { max: 300 }),
      ];
    },
    words: (values) => {
      const revision = valueOf(values, 'revision');
      return [valueOf(values, 'model') ?? '', ...(revision ? ['--revision', revision] : [])];
    },
    blame: [['revision', /revision/i], ['model', /.*/]],
  },
  'incident open': {
    title: 'Open an incident',
    submit: 'Open',
    async blocks(lookup, _command, prefill) {
      return [
        textInput('title', 'Title', { max: 150, ...(prefill.title ? { initial: prefill.title } : {}) }),
        choice('sev', 'Severity', SEVERITIES, '3'),
        // The person who opens the form, unless they pick someone else (`--commander`).
        { type: 'input', block_id: 'commander', label: plain('Commander', 2000), element: { type: 'users_select', action_id: 'commander', initial_user: lookup.user } },
      ];
    },
    words: (values) => {
      const commander = valueOf(values, 'commander');
      return [valueOf(values, 'title') ?? '', '--sev', valueOf(values, 'sev') ?? '3', ...(commander ? ['--commander', commander] : [])];
    },
    blame: [['sev', /sev/i], ['commander', /commander/i], ['title', /.*/]],
  },
  restart: workloadForm('deployments', 'Restart a deployment', 'Show plan', 'Deployment', (namespace, name) => [name, '--namespace', namespace]),
  'diagnose pod': workloadForm('pods', 'Diagnose a pod', 'Diagnose', 'Pod', (_namespace, name) => [name]),
};

/** Any other command: its arguments as typed, with its usage as the hint. */
const GENERIC: FormSpec = {
  title: 'Run a command',
  submit: 'Run',
  async blocks(_lookup, command) {
    const takesArgs = (command.positional?.length ?? 0) > 0 || command.rest !== undefined || Object.keys(command.args.shape).length > 0;
    return [context(`${command.name}: ${command.summary}`), ...(takesArgs ? [textInput('args', 'Arguments', { max: 500, optional: true, hint: `Usage: ${command.usage}` })] : [])];
  },
  words: (values) => tokenize(valueOf(values, 'args') ?? ''),
  blame: [['args', /.*/]],
};

const specOf = (command: string): FormSpec => FORMS[command] ?? GENERIC;

/** Commands that open their own form when typed with no argument. */
export const hasOwnForm = (command: string): boolean => Object.hasOwn(FORMS, command);

/** A command's form as a modal. `defaultChannel` preselects where to run when the form asks. */
export async function commandModal(command: Command, meta: FormMeta, lookup: FormLookup, opts: { defaultChannel?: string; prefill?: Prefill } = {}): Promise<ModalView> {
  const spec = specOf(command.name);
  const blocks = await spec.blocks(lookup, command, opts.prefill ?? {});
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK,
    title: plain(spec === GENERIC ? truncate(command.name, MODAL_LIMITS.title) : spec.title, MODAL_LIMITS.title),
    submit: plain(spec.submit, MODAL_LIMITS.button),
    close: plain('Cancel', MODAL_LIMITS.button),
    private_metadata: JSON.stringify(meta),
    blocks: [...blocks, ...(meta.channel ? [] : [channelInput(opts.defaultChannel)])],
  };
}

/** Reads a form's private_metadata; undefined when it isn't one of ours. */
export function readMeta(text: string | undefined): FormMeta | undefined {
  try {
    const meta = JSON.parse(text ?? '') as Partial<FormMeta>;
    return typeof meta.command === 'string' ? { command: meta.command, ...(typeof meta.channel === 'string' ? { channel: meta.channel } : {}), ...(typeof meta.threadTs === 'string' ? { threadTs: meta.threadTs } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** What a submission means: the words to run, where, and the reason to show with it. */
export function submission(meta: FormMeta, values: Values): { words: string[]; channel: string | undefined; reason?: string } {
  const reason = valueOf(values, 'reason');
  return { words: [...meta.command.split(' '), ...specOf(meta.command).words(values)], channel: meta.channel ?? valueOf(values, CHANNEL_BLOCK), ...(reason ? { reason } : {}) };
}

/** The input an error is about: Slack shows it under that field (response_action: errors). */
export function blameField(meta: FormMeta, message: string, blockIds: readonly string[]): string {
  const hit = specOf(meta.command).blame.find(([blockId, pattern]) => blockIds.includes(blockId) && pattern.test(message));
  return hit?.[0] ?? blockIds[0] ?? CHANNEL_BLOCK;
}

/** The names a form's external select offers for `query`. */
export async function suggestions(meta: FormMeta, lookup: FormLookup, query: string): Promise<Option[]> {
  const names = await specOf(meta.command).names?.(lookup);
  return matchingOptions(names ?? [], query);
}
