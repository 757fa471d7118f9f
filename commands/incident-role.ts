// Gives a person an incident role (commander or comms) and invites them to its channel.
// Typed inside the incident's channel, which names the incident; elsewhere `#N` does.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import { mentionUser, typedUserId } from '../src/core/mention.js';
import { ackReport, incidentsOf, takeIncidentRef } from '../src/incidents/incidents.js';

const USAGE = 'incident role [#N] <commander|comms> @user';

export default defineCommand({
  name: 'incident role',
  summary: "Give someone an incident role (commander or comms), in the incident's channel",
  usage: USAGE,
  args: z.object({ rest: z.string().max(300).optional() }),
  rest: 'rest',
  role: 'viewer',
  risk: 'read',
  examples: ['incident role comms @ana', 'incident role #3 commander @ben'],
  run: async (ctx, args) => {
    const { ref, text } = takeIncidentRef(args.rest);
    const [role, who, ...extra] = text.split(/\s+/).filter(Boolean);
    if (role !== 'commander' && role !== 'comms') throw new UsageError(`the role is commander or comms${role ? `, not "${role}"` : ''}`, USAGE);
    const id = who ? typedUserId(who) : undefined;
    if (!id || extra.length > 0) throw new UsageError('name one person with an @mention', USAGE);
    const incident = await incidentsOf(ctx).assign(ctx.caller, ref, role, id);
    return ackReport(`Incident #${incident.number}: ${role} is now ${mentionUser(id)}`, incident, 'They are invited to its channel.');
  },
});
