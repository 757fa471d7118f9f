// The confirmation card: the plan, who asked, and Approve/Cancel buttons that carry only
// the pending action's opaque id. Once decided, the buttons go and the outcome shows.
// Block texts are escaped here; a card's `text` is escaped by SlackPoster when sent.
import type { Command } from '../core/command.js';
import { mentionUser } from '../core/mention.js';
import type { PendingAction } from '../core/pending.js';
import { STATUS_EMOJI, type Report } from '../core/report.js';
import { inMessages, renderReport, type Block } from './blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';

export const APPROVE_ACTION = 'vlinders_approve';
export const CANCEL_ACTION = 'vlinders_cancel';
export const SUGGEST_ACTION = 'vlinders_suggest';
const ACTIONS_BLOCK = 'vlinders_confirm_actions';
const STATUS_BLOCK = 'vlinders_confirm_status';
const TITLE_BLOCK = 'vlinders_confirm_title';
const CONFIRM = 'Confirm: ';

export function confirmationCard(action: PendingAction, command: Command, plan: Report, typed: string): { text: string; blocks: Block[] } {
  const minutes = Math.round((action.expiresAt - action.createdAt) / 60_000);
  const who =
    action.risk === 'destructive'
      ? `Destructive: a second person with the approver role must approve. Requested by ${mentionUser(action.requester)}.`
      : `Requested by ${mentionUser(action.requester)}; anyone with the ${command.role} role may approve.`;
  const planBlocks = (renderReport({ ...plan, title: `${CONFIRM}${plan.title}` }, { maxMessages: 1 }).messages[0]?.blocks ?? []).map((b, i) =>
    i === 0 && b.type === 'header' ? { ...b, block_id: TITLE_BLOCK } : b,
  );
  const tail: Block[] = [
    {
      type: 'context',
      block_id: STATUS_BLOCK,
      elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`\`${typed}\` · ${who} Expires in ${minutes} min.`) }],
    },
    {
      type: 'actions',
      block_id: ACTIONS_BLOCK,
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, style: action.risk === 'destructive' ? 'danger' : 'primary', text: { type: 'plain_text', text: 'Approve' }, value: action.id },
        { type: 'button', action_id: CANCEL_ACTION, text: { type: 'plain_text', text: 'Cancel' }, value: action.id },
      ],
    },
  ];
  // As much of the plan as leaves room for the status context and the buttons.
  const blocks: Block[] = [...(inMessages(planBlocks, tail)[0] ?? []), ...tail];
  return { text: `Confirm ${command.name}: ${plan.summary ?? plan.title}`, blocks };
}

/**
 * The card once decided: its buttons replaced by a status line, and its title marked with where
 * the change stands (⏳ running, 🚫 cancelled, then the outcome's ✅ ⚠️ ❌) instead of "Confirm".
 * `blocks` are the card as posted (escaped already).
 */
export function decidedCard(blocks: readonly Block[], status: string, mark: string): Block[] {
  const kept = blocks.filter((b) => b.block_id !== ACTIONS_BLOCK && b.block_id !== STATUS_BLOCK).map((b) => {
    if (b.block_id !== TITLE_BLOCK || b.type !== 'header') return b;
    const at = b.text.text.indexOf(CONFIRM);
    return at < 0 ? b : { ...b, text: { ...b.text, text: `${mark} ${b.text.text.slice(at + CONFIRM.length)}` } };
  });
  return [...kept, { type: 'context', block_id: STATUS_BLOCK, elements: [{ type: 'mrkdwn', text: escapeMrkdwn(status) }] }];
}

export function outcomeLine(report: Report, approver: string, ms: number): string {
  const verb = report.status === 'fail' ? 'Failed' : report.status === 'warn' ? 'Finished with warnings' : 'Done';
  return `${STATUS_EMOJI[report.status]} ${verb} · approved by ${mentionUser(approver)} · ${(ms / 1000).toFixed(1)} s`;
}

/** A message offering a runbook command as a button; the button carries only the suggestion's id. */
export function suggestionMessage(intro: string, suggestions: Array<{ id: string; label: string }>): { text: string; blocks: Block[] } {
  return {
    text: intro,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(intro) } },
      {
        type: 'actions',
        elements: suggestions.slice(0, 25).map((s, i) => ({
          type: 'button',
          action_id: i === 0 ? SUGGEST_ACTION : `${SUGGEST_ACTION}_${i}`,
          text: { type: 'plain_text', text: s.label.slice(0, 75) },
          value: s.id,
        })),
      },
    ],
  };
}
