// Expires the silence the bot made for an alert group (its thread's "Expire silence" button).
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { NothingToDoError } from '../src/core/errors.js';
import { mentionUser } from '../src/core/mention.js';
import { groupIdArg, silencesOf } from '../src/incidents/silences.js';

export default defineCommand({
  name: 'silence expire',
  summary: 'Expire the silence of an alert group, so Alertmanager notifies it again',
  usage: 'silence expire <group>',
  args: z.object({ group: groupIdArg }),
  positional: ['group'],
  role: 'operator',
  risk: 'change',
  examples: ['silence expire 8f89eb6e073d7d25e0c97087f248ffa470bcebc9'],
  plan: async (ctx, { group }) => {
    const current = await silencesOf(ctx).inForce(group, ctx.signal);
    if (!current) throw new NothingToDoError('This alert group has no silence of the bot in force: nothing to expire.');
    return {
      title: `expire silence ${current.silenceId}`,
      status: 'info',
      summary: `Silenced by ${current.createdBy} until ${new Date(current.endsAt).toISOString()}; expiring it lets Alertmanager notify this group again.`,
      pin: current.silenceId,
    };
  },
  run: async (ctx, { group }) => {
    const record = await silencesOf(ctx).expire(group, `expired by ${mentionUser(ctx.caller.userId)}`, ctx.signal, ctx.pin as string | undefined);
    return { title: 'silence expire', status: 'ok', summary: `Alertmanager silence ${record.silenceId} expired.` };
  },
});
