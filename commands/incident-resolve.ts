// Resolves an incident: a closing message, the summary and line marked resolved, and in an
// incident channel a postmortem draft (Markdown) posted there.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ackReport, incidentsOf, takeIncidentRef } from '../src/incidents/incidents.js';

export default defineCommand({
  name: 'incident resolve',
  summary: "Resolve an incident, in its channel (or name it: #N); posts the postmortem draft",
  usage: 'incident resolve [#N] [summary]',
  args: z.object({ summary: z.string().max(2000).optional() }),
  rest: 'summary',
  role: 'viewer',
  risk: 'read',
  examples: ['incident resolve bad deploy rolled back', 'incident resolve #3'],
  run: async (ctx, args) => {
    const { ref, text } = takeIncidentRef(args.summary);
    const incident = await incidentsOf(ctx).resolve(ctx.caller, ref, text || undefined);
    return ackReport(`Incident #${incident.number} resolved`, incident, incident.room ? 'The postmortem draft is in its channel.' : 'The root message shows it resolved.');
  },
});
