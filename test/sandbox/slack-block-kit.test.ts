// Block Kit rules of the Slack emulator, one case per limit: each just over the limit fails with a
// Slack-style error pointing at the field, and the same thing at the limit passes.
import { describe, expect, it } from 'vitest';
import { validateBlocks } from '../../src/sandbox/slack/index.js';

const text = (t: string, type: 'plain_text' | 'mrkdwn' = 'mrkdwn') => ({ type, text: t });
const button = (over: Record<string, unknown> = {}) => ({
  type: 'button',
  text: text('Approve', 'plain_text'),
  action_id: 'approve',
  value: 'pa-1',
  ...over,
});
const section = (t: string) => ({ type: 'section', text: text(t) });
const actions = (...elements: unknown[]) => ({ type: 'actions', elements });
const n = (count: number, make: (i: number) => unknown) => Array.from({ length: count }, (_, i) => make(i));

describe('validateBlocks: a realistic card passes', () => {
  it('accepts every block type the bot renders', () => {
    const blocks = [
      { type: 'header', text: text('Scale GPU workers', 'plain_text') },
      { type: 'section', text: text('*Plan*'), fields: [text('*From*\n2'), text('*To*\n4')], accessory: button({ action_id: 'x' }) },
      { type: 'divider' },
      { type: 'context', elements: [text('requested by <@U1>'), { type: 'image', image_url: 'https://x/y.png', alt_text: 'y' }] },
      {
        type: 'actions',
        block_id: 'confirm',
        elements: [
          button({
            style: 'primary',
            confirm: {
              title: text('Sure?', 'plain_text'),
              text: text('This scales the cluster'),
              confirm: text('Yes', 'plain_text'),
              deny: text('No', 'plain_text'),
            },
          }),
          button({ action_id: 'cancel', style: 'danger', text: text('Cancel', 'plain_text') }),
        ],
      },
      { type: 'markdown', text: '**done**' },
      { type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'hi' }] }] },
      { type: 'image', image_url: 'https://x/graph.png', alt_text: 'graph', title: text('Latency', 'plain_text') },
    ];
    expect(validateBlocks(blocks)).toEqual([]);
  });

  it('accepts values exactly at each limit', () => {
    const blocks = [
      ...n(40, (i) => section(i === 0 ? 'x'.repeat(3000) : `s${i}`)),
      { type: 'header', text: text('h'.repeat(150), 'plain_text') },
      { type: 'section', fields: n(10, () => text('f'.repeat(2000))) },
      { type: 'context', elements: n(10, (i) => text(`c${i}`)) },
      actions(...n(25, (i) => button({ action_id: `a${i}`, value: i === 0 ? 'v'.repeat(2000) : 'v', url: 'https://' + 'u'.repeat(2992) }))),
      actions(button({ action_id: 'b'.repeat(255), text: text('t'.repeat(75), 'plain_text') })),
      { type: 'markdown', text: 'm'.repeat(12000), block_id: 'k'.repeat(255) },
      { type: 'divider' }, { type: 'divider' }, { type: 'divider' }, { type: 'divider' },
    ];
    expect(blocks).toHaveLength(50);
    expect(validateBlocks(blocks)).toEqual([]);
  });
});

// [what, blocks, the error Slack would give]
const violations: Array<[string, unknown[], string]> = [
  ['51 blocks', n(51, () => ({ type: 'divider' })), 'no more than 50 items allowed [json-pointer:/blocks]'],
  ['section text 3001 chars', [section('x'.repeat(3001))], 'must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
  ['section with neither text nor fields', [{ type: 'section' }], 'must provide one of: text, fields [json-pointer:/blocks/0]'],
  ['11 section fields', [{ type: 'section', fields: n(11, () => text('f')) }], 'no more than 10 items allowed [json-pointer:/blocks/0/fields]'],
  ['a 2001-char field', [{ type: 'section', fields: [text('f'.repeat(2001))] }], 'must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]'],
  ['header 151 chars', [{ type: 'header', text: text('h'.repeat(151), 'plain_text') }], 'must be less than 151 characters [json-pointer:/blocks/0/text/text]'],
  ['mrkdwn header', [{ type: 'header', text: text('h') }], 'must be a valid enum value [json-pointer:/blocks/0/text/type]'],
  ['empty context', [{ type: 'context', elements: [] }], 'must provide at least 1 items [json-pointer:/blocks/0/elements]'],
  ['11 context elements', [{ type: 'context', elements: n(11, () => text('c')) }], 'no more than 10 items allowed [json-pointer:/blocks/0/elements]'],
  ['a button in context', [{ type: 'context', elements: [button()] }], 'must be a valid enum value [json-pointer:/blocks/0/elements/0/type]'],
  ['empty actions', [actions()], 'must provide at least 1 items [json-pointer:/blocks/0/elements]'],
  ['26 actions', [actions(...n(26, (i) => button({ action_id: `a${i}` })))], 'no more than 25 items allowed [json-pointer:/blocks/0/elements]'],
  ['button text 76 chars', [actions(button({ text: text('t'.repeat(76), 'plain_text') }))], 'must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]'],
  ['mrkdwn button text', [actions(button({ text: text('*b*') }))], 'must be a valid enum value [json-pointer:/blocks/0/elements/0/text/type]'],
  ['button value 2001 chars', [actions(button({ value: 'v'.repeat(2001) }))], 'must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]'],
  ['button url 3001 chars', [actions(button({ url: 'u'.repeat(3001) }))], 'must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]'],
  ['button style secondary', [actions(button({ style: 'secondary' }))], 'must be a valid enum value [json-pointer:/blocks/0/elements/0/style]'],
  ['action_id 256 chars', [actions(button({ action_id: 'a'.repeat(256) }))], 'must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]'],
  ['button without text', [actions({ type: 'button', action_id: 'a' })], 'missing required field: text [json-pointer:/blocks/0/elements/0]'],
  ['duplicate action_id across blocks', [actions(button()), actions(button())], '`action_id` "approve" already exists [json-pointer:/blocks/1/elements/0/action_id]'],
  ['duplicate action_id in an accessory', [{ ...section('s'), accessory: button() }, actions(button())], '`action_id` "approve" already exists [json-pointer:/blocks/1/elements/0/action_id]'],
  ['duplicate block_id', [{ type: 'divider', block_id: 'b' }, { type: 'divider', block_id: 'b' }], '`block_id` "b" already exists [json-pointer:/blocks/1/block_id]'],
  ['block_id 256 chars', [{ type: 'divider', block_id: 'b'.repeat(256) }], 'must be less than 256 characters [json-pointer:/blocks/0/block_id]'],
  ['confirm without deny', [actions(button({ confirm: { title: text('t', 'plain_text'), text: text('x'), confirm: text('y', 'plain_text') } }))], 'missing required field: deny [json-pointer:/blocks/0/elements/0/confirm]'],
  ['empty text', [section('')], 'must be more than 0 characters [json-pointer:/blocks/0/text/text]'],
  ['bare string for a text object', [{ type: 'section', text: 'hello' }], 'must provide an object [json-pointer:/blocks/0/text]'],
  ['unknown text type', [{ type: 'section', text: { type: 'markdown', text: 'x' } }], 'must be a valid enum value [json-pointer:/blocks/0/text/type]'],
  ['unknown block type', [{ type: 'table' }], 'unsupported block type: table [json-pointer:/blocks/0/type]'],
  ['a misspelt field', [actions(button({ acton_id: 'x' }))], 'invalid additional property: acton_id [json-pointer:/blocks/0/elements/0]'],
  ['emoji on mrkdwn', [{ type: 'section', text: { type: 'mrkdwn', text: 'x', emoji: true } }], 'invalid additional property: emoji [json-pointer:/blocks/0/text]'],
  ['markdown block 12001 chars', [{ type: 'markdown', text: 'm'.repeat(12001) }], 'must be less than 12001 characters [json-pointer:/blocks/0/text]'],
  ['a block that is not an object', ['divider'], 'must provide an object [json-pointer:/blocks/0]'],
  ['image without alt_text', [{ type: 'image', image_url: 'https://x' }], 'missing required field: alt_text [json-pointer:/blocks/0]'],
];

describe('validateBlocks: each violation is refused like Slack does', () => {
  it.each(violations)('%s', (_what, blocks, expected) => {
    expect(validateBlocks(blocks)).toContain(expected);
  });
});
