// Block Kit validation the way Slack applies it to chat.postMessage / postEphemeral / update.
// All limits live in the tables below (BLOCKS, ELEMENTS, CONFIRM, TEXT_OBJECT) so they can be audited
// against https://docs.slack.dev/reference/block-kit in one place. Error strings follow Slack's
// `<complaint> [json-pointer:/blocks/N/...]` form as seen in real `invalid_blocks` responses
// ("must be less than 3001 characters", "no more than 50 items allowed", "must be more than 0 characters").

/** A field rule. `plain` means the text object must be plain_text. */
type Rule =
  | { kind: 'text'; max: number; plain?: true }
  | { kind: 'string'; max: number; oneOf?: readonly string[] }
  | { kind: 'texts'; maxItems: number; max: number }
  | { kind: 'elements'; of: 'interactive' | 'context'; min: number; max: number }
  | { kind: 'element' }
  | { kind: 'confirm' }
  | { kind: 'bool' }
  | { kind: 'id'; idKind: 'block_id' | 'action_id' }
  | { kind: 'options'; max: number }
  | { kind: 'option' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'any' };

interface Spec {
  fields: Record<string, Rule>;
  required?: readonly string[];
  /** At least one of these must be present. */
  anyOf?: readonly string[];
}

const STYLE = ['primary', 'danger'] as const;
const BLOCK_ID: Rule = { kind: 'id', idKind: 'block_id' };
const ACTION_ID: Rule = { kind: 'id', idKind: 'action_id' };

export const LIMITS = {
  blocksPerMessage: 50,
  blocksPerView: 100,
  blockId: 255,
  actionId: 255,
  optionsPerSelect: 100,
  /**
   * A message's blocks together: past this, msg_blocks_too_long. Slack doesn't document the
   * number: people measured ~13,200 characters of text (bolt-js#2509), and its maintainers say
   * "12,000 text characters with a buffer for block containers" (bolt-js#2867, where 11,341
   * characters of text in many small blocks were refused). Held here to 12,000 characters of
   * the blocks' JSON, containers included: never more lenient than Slack.
   */
  blocksJsonPerMessage: 12_000,
} as const;

/** Where blocks are shown: a message holds 50, a modal or the Home tab 100 (docs: "up to 100 blocks"). */
export type Surface = 'message' | 'modal' | 'home';

/** Every block type Slack accepts in a message, with its fields and their limits. */
export const BLOCKS: Record<string, Spec> = {
  section: {
    fields: {
      block_id: BLOCK_ID,
      text: { kind: 'text', max: 3000 },
      fields: { kind: 'texts', maxItems: 10, max: 2000 },
      accessory: { kind: 'element' },
      expand: { kind: 'bool' },
    },
    anyOf: ['text', 'fields'],
  },
  header: { fields: { block_id: BLOCK_ID, text: { kind: 'text', max: 150, plain: true } }, required: ['text'] },
  divider: { fields: { block_id: BLOCK_ID } },
  context: {
    fields: { block_id: BLOCK_ID, elements: { kind: 'elements', of: 'context', min: 1, max: 10 } },
    required: ['elements'],
  },
  actions: {
    fields: { block_id: BLOCK_ID, elements: { kind: 'elements', of: 'interactive', min: 1, max: 25 } },
    required: ['elements'],
  },
  // rich_text element trees are deep and only echoed back by Slack; we check the envelope only.
  rich_text: { fields: { block_id: BLOCK_ID, elements: { kind: 'any' } }, required: ['elements'] },
  image: {
    fields: {
      block_id: BLOCK_ID,
      image_url: { kind: 'string', max: 3000 },
      slack_file: { kind: 'any' },
      alt_text: { kind: 'string', max: 2000 },
      title: { kind: 'text', max: 2000, plain: true },
    },
    required: ['alt_text'],
    anyOf: ['image_url', 'slack_file'],
  },
  input: {
    fields: {
      block_id: BLOCK_ID,
      label: { kind: 'text', max: 2000, plain: true },
      element: { kind: 'element' },
      dispatch_action: { kind: 'bool' },
      hint: { kind: 'text', max: 2000, plain: true },
      optional: { kind: 'bool' },
    },
    required: ['label', 'element'],
  },
  file: {
    fields: { block_id: BLOCK_ID, external_id: { kind: 'string', max: 255 }, source: { kind: 'string', max: 20, oneOf: ['remote'] } },
    required: ['external_id', 'source'],
  },
  markdown: { fields: { block_id: BLOCK_ID, text: { kind: 'string', max: 12000 } }, required: ['text'] },
  video: {
    fields: {
      block_id: BLOCK_ID,
      alt_text: { kind: 'string', max: 2000 },
      author_name: { kind: 'string', max: 50 },
      description: { kind: 'text', max: 200, plain: true },
      provider_icon_url: { kind: 'string', max: 3000 },
      provider_name: { kind: 'string', max: 50 },
      title: { kind: 'text', max: 200, plain: true },
      title_url: { kind: 'string', max: 3000 },
      thumbnail_url: { kind: 'string', max: 3000 },
      video_url: { kind: 'string', max: 3000 },
    },
    required: ['alt_text', 'title', 'thumbnail_url', 'video_url'],
  },
};

/** Interactive elements checked field by field. Others in KNOWN_ELEMENTS only get the action_id checks. */
export const ELEMENTS: Record<string, Spec> = {
  button: {
    fields: {
      action_id: ACTION_ID,
      text: { kind: 'text', max: 75, plain: true },
      value: { kind: 'string', max: 2000 },
      url: { kind: 'string', max: 3000 },
      style: { kind: 'string', max: 10, oneOf: STYLE },
      confirm: { kind: 'confirm' },
      accessibility_label: { kind: 'string', max: 75 },
    },
    required: ['text'],
  },
  image: {
    fields: { image_url: { kind: 'string', max: 3000 }, slack_file: { kind: 'any' }, alt_text: { kind: 'string', max: 2000 } },
    required: ['alt_text'],
    anyOf: ['image_url', 'slack_file'],
  },
  // Select menus: "Maximum number of options is 100", placeholder 150, option text 75, value 150.
  static_select: {
    fields: {
      action_id: ACTION_ID,
      options: { kind: 'options', max: 100 },
      option_groups: { kind: 'any' },
      initial_option: { kind: 'option' },
      placeholder: { kind: 'text', max: 150, plain: true },
      confirm: { kind: 'confirm' },
      focus_on_load: { kind: 'bool' },
    },
    anyOf: ['options', 'option_groups'],
  },
  external_select: {
    fields: {
      action_id: ACTION_ID,
      initial_option: { kind: 'option' },
      min_query_length: { kind: 'int', min: 0, max: 1000 },
      placeholder: { kind: 'text', max: 150, plain: true },
      confirm: { kind: 'confirm' },
      focus_on_load: { kind: 'bool' },
    },
  },
  plain_text_input: {
    fields: {
      action_id: ACTION_ID,
      placeholder: { kind: 'text', max: 150, plain: true },
      initial_value: { kind: 'string', max: 3000 },
      multiline: { kind: 'bool' },
      min_length: { kind: 'int', min: 0, max: 3000 },
      max_length: { kind: 'int', min: 1, max: 3000 },
      dispatch_action_config: { kind: 'any' },
      focus_on_load: { kind: 'bool' },
    },
  },
  number_input: {
    fields: {
      action_id: ACTION_ID,
      is_decimal_allowed: { kind: 'bool' },
      initial_value: { kind: 'string', max: 50 },
      min_value: { kind: 'string', max: 50 },
      max_value: { kind: 'string', max: 50 },
      placeholder: { kind: 'text', max: 150, plain: true },
      dispatch_action_config: { kind: 'any' },
      focus_on_load: { kind: 'bool' },
    },
    required: ['is_decimal_allowed'],
  },
  users_select: {
    fields: { action_id: ACTION_ID, initial_user: { kind: 'string', max: 30 }, placeholder: { kind: 'text', max: 150, plain: true }, confirm: { kind: 'confirm' }, focus_on_load: { kind: 'bool' } },
  },
  conversations_select: {
    fields: {
      action_id: ACTION_ID,
      initial_conversation: { kind: 'string', max: 30 },
      default_to_current_conversation: { kind: 'bool' },
      response_url_enabled: { kind: 'bool' },
      filter: { kind: 'any' },
      placeholder: { kind: 'text', max: 150, plain: true },
      confirm: { kind: 'confirm' },
      focus_on_load: { kind: 'bool' },
    },
  },
};

/** An option object: text (75), value (150), description (75). */
export const OPTION: Spec = {
  fields: { text: { kind: 'text', max: 75 }, value: { kind: 'string', max: 150 }, description: { kind: 'text', max: 75, plain: true }, url: { kind: 'string', max: 3000 } },
  required: ['text', 'value'],
};

export const KNOWN_ELEMENTS = new Set([
  ...Object.keys(ELEMENTS),
  'checkboxes', 'datepicker', 'datetimepicker', 'email_text_input', 'file_input', 'number_input', 'overflow',
  'plain_text_input', 'radio_buttons', 'rich_text_input', 'static_select', 'external_select', 'users_select',
  'conversations_select', 'channels_select', 'multi_static_select', 'multi_external_select', 'multi_users_select',
  'multi_conversations_select', 'multi_channels_select', 'timepicker', 'url_text_input', 'workflow_button',
]);

/** Confirmation dialog object (on buttons and other elements). */
export const CONFIRM: Spec = {
  fields: {
    title: { kind: 'text', max: 100, plain: true },
    text: { kind: 'text', max: 300 },
    confirm: { kind: 'text', max: 30, plain: true },
    deny: { kind: 'text', max: 30, plain: true },
    style: { kind: 'string', max: 10, oneOf: STYLE },
  },
  required: ['title', 'text', 'confirm', 'deny'],
};

/** Keys a text object may carry, per type. */
export const TEXT_OBJECT = { plain_text: ['type', 'text', 'emoji'], mrkdwn: ['type', 'text', 'verbatim'] } as const;

const at = (path: string) => ` [json-pointer:${path}]`;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Returns Slack-style error strings; an empty list means Slack would accept the blocks. `root` is
 * the JSON pointer of the blocks array (a view's are under /view/blocks).
 */
export function validateBlocks(blocks: unknown[], opts: { surface?: Surface; root?: string } = {}): string[] {
  const errors: string[] = [];
  const seen = { block_id: new Set<string>(), action_id: new Set<string>() };
  const root = opts.root ?? '/blocks';
  const err = (msg: string, path: string): void => {
    errors.push(msg + at(path));
  };

  const maxBlocks = (opts.surface ?? 'message') === 'message' ? LIMITS.blocksPerMessage : LIMITS.blocksPerView;
  if (blocks.length > maxBlocks) err(`no more than ${maxBlocks} items allowed`, root);

  const checkText = (v: unknown, rule: Extract<Rule, { kind: 'text' }>, path: string) => {
    if (!isObject(v)) return err('must provide an object', path);
    const type = v.type;
    if (type !== 'plain_text' && type !== 'mrkdwn') return err('must be a valid enum value', `${path}/type`);
    if (rule.plain && type !== 'plain_text') return err('must be a valid enum value', `${path}/type`);
    for (const key of Object.keys(v)) {
      if (!(TEXT_OBJECT[type] as readonly string[]).includes(key)) err(`invalid additional property: ${key}`, path);
    }
    if (typeof v.text !== 'string') return err(v.text === undefined ? 'missing required field: text' : 'must provide a string', `${path}/text`);
    if (v.text.length === 0) return err('must be more than 0 characters', `${path}/text`);
    if (v.text.length > rule.max) err(`must be less than ${rule.max + 1} characters`, `${path}/text`);
  };

  const checkString = (v: unknown, max: number, path: string, oneOf?: readonly string[]) => {
    if (typeof v !== 'string') return err('must provide a string', path);
    if (oneOf && !oneOf.includes(v)) return err('must be a valid enum value', path);
    if (v.length === 0) return err('must be more than 0 characters', path);
    if (v.length > max) err(`must be less than ${max + 1} characters`, path);
  };

  const checkId = (v: unknown, kind: 'block_id' | 'action_id', path: string) => {
    const max = kind === 'block_id' ? LIMITS.blockId : LIMITS.actionId;
    checkString(v, max, path);
    if (typeof v !== 'string') return;
    if (seen[kind].has(v)) err(`\`${kind}\` "${v}" already exists`, path);
    seen[kind].add(v);
  };

  const checkSpec = (obj: Record<string, unknown>, spec: Spec, path: string) => {
    for (const key of Object.keys(obj)) {
      if (key !== 'type' && !(key in spec.fields)) err(`invalid additional property: ${key}`, path);
    }
    for (const key of spec.required ?? []) {
      if (obj[key] === undefined) err(`missing required field: ${key}`, path);
    }
    if (spec.anyOf && spec.anyOf.every((k) => obj[k] === undefined)) {
      err(`must provide one of: ${spec.anyOf.join(', ')}`, path);
    }
    for (const [key, rule] of Object.entries(spec.fields)) {
      const v = obj[key];
      if (v !== undefined) checkRule(v, rule, `${path}/${key}`);
    }
  };

  const checkElement = (v: unknown, path: string, context: boolean) => {
    if (!isObject(v)) return err('must provide an object', path);
    const type = v.type;
    if (typeof type !== 'string') return err('missing required field: type', path);
    if (context) {
      // Context blocks hold text objects and images, nothing interactive.
      if (type === 'plain_text' || type === 'mrkdwn') return checkText(v, { kind: 'text', max: 3000 }, path);
      if (type === 'image') return checkSpec(v, ELEMENTS.image as Spec, path);
      return err('must be a valid enum value', `${path}/type`);
    }
    if (!KNOWN_ELEMENTS.has(type) || type === 'image') return err('must be a valid enum value', `${path}/type`);
    const spec = ELEMENTS[type];
    if (spec) return checkSpec(v, spec, path);
    if (v.action_id !== undefined) checkId(v.action_id, 'action_id', `${path}/action_id`);
  };

  const checkRule = (v: unknown, rule: Rule, path: string): void => {
    switch (rule.kind) {
      case 'text':
        return checkText(v, rule, path);
      case 'string':
        return checkString(v, rule.max, path, rule.oneOf);
      case 'id':
        return checkId(v, rule.idKind, path);
      case 'bool':
        if (typeof v !== 'boolean') err('must provide a boolean', path);
        return;
      case 'confirm':
        if (!isObject(v)) return err('must provide an object', path);
        return checkSpec(v, CONFIRM, path);
      case 'element':
        // An accessory may be any interactive element or an image.
        if (isObject(v) && v.type === 'image') return checkSpec(v, ELEMENTS.image as Spec, path);
        return checkElement(v, path, false);
      case 'texts':
        if (!Array.isArray(v)) return err('must provide an array', path);
        if (v.length > rule.maxItems) err(`no more than ${rule.maxItems} items allowed`, path);
        v.forEach((t, i) => checkText(t, { kind: 'text', max: rule.max }, `${path}/${i}`));
        return;
      case 'elements':
        if (!Array.isArray(v)) return err('must provide an array', path);
        if (v.length < rule.min) err(`must provide at least ${rule.min} items`, path);
        if (v.length > rule.max) err(`no more than ${rule.max} items allowed`, path);
        v.forEach((e, i) => checkElement(e, `${path}/${i}`, rule.of === 'context'));
        return;
      case 'options':
        if (!Array.isArray(v)) return err('must provide an array', path);
        if (v.length < 1) err('must provide at least 1 items', path);
        if (v.length > rule.max) err(`no more than ${rule.max} items allowed`, path);
        v.forEach((o, i) => checkRule(o, { kind: 'option' }, `${path}/${i}`));
        return;
      case 'option':
        if (!isObject(v)) return err('must provide an object', path);
        return checkSpec(v, OPTION, path);
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) return err('must provide an integer', path);
        if (v < rule.min || v > rule.max) err(`must be between ${rule.min} and ${rule.max}`, path);
        return;
      case 'any':
        return;
    }
  };

  blocks.forEach((block, i) => {
    const path = `${root}/${i}`;
    if (!isObject(block)) return err('must provide an object', path);
    if (typeof block.type !== 'string') return err('missing required field: type', path);
    const spec = BLOCKS[block.type];
    if (!spec) return err(`unsupported block type: ${block.type}`, `${path}/type`);
    checkSpec(block, spec, path);
  });
  return errors;
}
