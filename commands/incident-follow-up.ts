// A follow-up item for an incident's postmortem; after resolve, a fresh draft carries it.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import { ackReport, incidentsOf, takeIncidentRef } from '../src/incidents/incidents.js';

export default defineCommand({
  name: 'incident follow-up',
  summary: "Add a follow-up item to an incident's postmortem, in the incident's channel",
  usage: 'incident follow-up [#N] <text>',
  args: z.object({ text: z.string().max(500).optional() }),
  rest: 'text',
  role: 'viewer',
  risk: 'read',
  examples: ['incident follow-up alert on KV cache usage above 90%'],
  run: async (ctx, args) => {
    const { ref, text } = takeIncidentRef(args.text);
    if (!text) throw new UsageError('say what should follow: `incident follow-up [#N] <text>`');
    const incident = await incidentsOf(ctx).addFollowUp(ctx.caller, ref, text);
    return ackReport(`Follow-up added to incident #${incident.number}`, incident, `${incident.followUps?.length ?? 0} so far.`);
  },
});
