// Silences an alert group in Alertmanager from its thread (its buttons run this), through
// confirmation; matchers that reach alerts outside the group need a second person.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UserFacingError } from '../src/core/errors.js';
import { groupIdArg, pinOf, silencesOf, SILENCE_LENGTHS, type SilencePin } from '../src/incidents/silences.js';

const USAGE = 'silence add <group> <length>';

export default defineCommand({
  name: 'silence add',
  summary: "Silence an alert group in Alertmanager on its labels for 1h, 4h or until-resolved (the alert thread's buttons); matchers reaching other alerts need two people",
  usage: USAGE,
  args: z.object({ group: groupIdArg, length: z.enum(SILENCE_LENGTHS) }),
  positional: ['group', 'length'],
  role: 'operator',
  risk: 'change',
  examples: ['silence add 8f89eb6e073d7d25e0c97087f248ffa470bcebc9 1h', 'silence add 8f89eb6e073d7d25e0c97087f248ffa470bcebc9 until-resolved'],
  plan: async (ctx, { group, length }) => {
    const silences = silencesOf(ctx);
    const plan = await silences.plan(group, length, ctx.signal);
    const pin: SilencePin = pinOf(plan, ctx.caller.userName ?? ctx.caller.userId);
    return { ...silences.planReport(plan, length), pin, ...(plan.outside.length > 0 ? { risk: 'destructive' as const } : {}) };
  },
  run: async (ctx, { group, length }) => {
    const pin = ctx.pin as SilencePin | undefined;
    if (!pin) throw new UserFacingError('A silence is created from its approved plan only.');
    const record = await silencesOf(ctx).create(group, length, pin, { userId: ctx.caller.userId, name: pin.createdBy }, ctx.signal);
    return { title: 'silence add', status: 'ok', summary: `Alertmanager silence ${record.silenceId} is in force until ${new Date(record.endsAt).toISOString()}${record.untilResolved ? ', or until the group resolves' : ''}.` };
  },
});
