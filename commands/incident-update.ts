// An update on an incident: a message in its channel (or thread), the summary updated in place.
// The channel it is typed in names the incident; elsewhere `#N` does.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import { ackReport, incidentsOf, takeIncidentRef } from '../src/incidents/incidents.js';

export default defineCommand({
  name: 'incident update',
  summary: "Post an update on an incident, in the incident's channel (or name it: #N)",
  usage: 'incident update [#N] <text>',
  args: z.object({ text: z.string().max(2000).optional() }),
  rest: 'text',
  role: 'viewer',
  risk: 'read',
  examples: ['incident update rolled back to v1.4.2, watching p95', 'incident update #3 db failover done'],
  run: async (ctx, args) => {
    const { ref, text } = takeIncidentRef(args.text);
    if (!text) throw new UsageError('say what changed: `incident update [#N] <text>`');
    const incident = await incidentsOf(ctx).update(ctx.caller, ref, text);
    return ackReport(`Incident #${incident.number} updated`, incident, 'Posted in its thread.');
  },
});
