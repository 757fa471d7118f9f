// The renderer against the emulator's Block Kit rules: whatever a command returns, every
// message fits, and nothing is lost.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mentionChannel, mentionUser } from '../../src/core/mention.js';
import type { Report } from '../../src/core/report.js';
import { LIMITS, validateBlocks } from '../../src/sandbox/slack/index.js';
import { renderReport } from '../../src/slack/blocks.js';
import { confirmationCard, decidedCard } from '../../src/slack/cards.js';
import { escapeMrkdwn, splitText } from '../../src/slack/mrkdwn.js';
import type { PendingAction } from '../../src/core/pending.js';
import help from '../../commands/help.js';

const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '<', '&', '`', '*', 'é', '💥'), maxLength: 5000 });
const report: fc.Arbitrary<Report> = fc.record({
  title: fc.string({ maxLength: 300 }),
  status: fc.constantFrom('ok', 'warn', 'fail', 'info'),
  summary: fc.option(text, { nil: undefined }),
  sections: fc.array(
    fc.record({
      title: fc.option(fc.string({ maxLength: 400 }), { nil: undefined }),
      fields: fc.option(fc.array(fc.record({ label: fc.string({ maxLength: 50 }), value: fc.string({ maxLength: 3000 }) }), { maxLength: 25 }), { nil: undefined }),
      rows: fc.option(fc.array(fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 5 }), { maxLength: 300 }), { nil: undefined }),
      lines: fc.option(fc.array(fc.string({ maxLength: 200 }), { maxLength: 400 }), { nil: undefined }),
    }),
    { maxLength: 12 },
  ),
});

describe('renderReport', () => {
  it('every message it makes is valid Block Kit, whatever the report', () => {
    fc.assert(
      fc.property(report, (r) => {
        const rendered = renderReport(r, { footer: '<@U0VIEWER1> ran `/vlinders status`' });
        for (const message of rendered.messages) {
          expect(validateBlocks(message.blocks)).toEqual([]);
          expect(JSON.stringify(message.blocks).length).toBeLessThanOrEqual(LIMITS.blocksJsonPerMessage);
          expect(message.text.length).toBeLessThanOrEqual(3000);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a diagnosis with long log lines goes in messages Slack takes: each within its blocks’ size together, nothing lost', () => {
    // Two containers' last 50 lines, 217 characters each: 22,000 characters, each section within its 3,000.
    const logs = (c: string) => Array.from({ length: 50 }, (_, i) => `${c} ${String(i).padStart(2, '0')} ${'x'.repeat(210)}`);
    const rendered = renderReport({ title: 'diagnose pod api-0', status: 'warn', sections: [{ title: 'app', lines: logs('app') }, { title: 'sidecar', lines: logs('sidecar') }] });
    expect(rendered.messages.length).toBeGreaterThan(1);
    for (const message of rendered.messages) expect(JSON.stringify(message.blocks).length).toBeLessThanOrEqual(LIMITS.blocksJsonPerMessage);
    const shown = rendered.messages.map((m) => JSON.stringify(m.blocks)).join('');
    for (const c of ['app', 'sidecar']) for (let i = 0; i < 50; i++) expect(shown).toContain(`${c} ${String(i).padStart(2, '0')} x`);
  });

  it('lines survive splitting in order', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `row ${i}`);
    const { messages, files } = renderReport({ title: 't', status: 'ok', sections: [{ lines }] });
    expect(files).toEqual([]);
    const shown = messages
      .flatMap((m) => m.blocks)
      .map((b) => (b.type === 'section' ? (b.text?.text ?? '') : ''))
      .join('\n');
    expect(shown.split('\n').filter((l) => l.startsWith('row '))).toEqual(lines);
  });

  it('escapes mrkdwn whole: only the mentions the bot made stay live', () => {
    expect(escapeMrkdwn('a < b && c > d <@U123> <#C123> <https://x.io|x>')).toBe('a &lt; b &amp;&amp; c &gt; d &lt;@U123&gt; &lt;#C123&gt; &lt;https://x.io|x&gt;');
    expect(escapeMrkdwn('<script>')).toBe('&lt;script&gt;');
    expect(escapeMrkdwn(`${mentionUser('U123')} in ${mentionChannel('C123')} <!here>`)).toBe('<@U123> in <#C123> &lt;!here&gt;');
    expect(escapeMrkdwn(mentionUser('U1>x'))).toBe('U1&gt;x');
  });

  it('splitText cuts at line breaks and never exceeds the limit', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 5, max: 500 }), (t, max) => {
        const pieces = splitText(t, max);
        for (const p of pieces) expect(p.length).toBeLessThanOrEqual(max);
        expect(pieces.join('').replace(/\n/g, '')).toBe(t.replace(/\n/g, ''));
      }),
    );
  });
});

describe('confirmation card', () => {
  const action: PendingAction = {
    id: 'AbCdEfGhIjKlMnOpQrStUvWx',
    command: 'help',
    words: [],
    requester: 'U0OPERAT1',
    channel: 'C0OPS0001',
    risk: 'change',
    role: 'operator',
    createdAt: 0,
    expiresAt: 600_000,
    state: 'pending',
  };

  it('is valid even for a huge plan, and keeps its buttons', () => {
    const plan: Report = { title: 'plan', status: 'info', sections: [{ lines: Array.from({ length: 20_000 }, (_, i) => `change ${i}`) }] };
    const card = confirmationCard(action, help, plan, '/vlinders x');
    expect(validateBlocks(card.blocks)).toEqual([]);
    expect(JSON.stringify(card.blocks).length).toBeLessThanOrEqual(LIMITS.blocksJsonPerMessage);
    expect(JSON.stringify(card.blocks)).toContain('vlinders_approve');
    const decided = decidedCard(card.blocks, '✅ Done', '✅');
    expect(validateBlocks(decided)).toEqual([]);
    expect(JSON.stringify(decided)).not.toContain('vlinders_approve');
  });
});
