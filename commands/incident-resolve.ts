// Resolves an incident: a closing reply in its thread, and the root marked resolved.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ackReport, incidentsOf, takeIncidentRef } from '../src/incidents/incidents.js';

export default defineCommand({
  name: 'incident resolve',
  summary: 'Resolve an incident (#N, or the only open incident), with an optional summary',
  usage: 'incident resolve [#N] [summary]',
  args: z.object({ summary: z.string().max(2000).optional() }),
  rest: 'summary',
  role: 'viewer',
  risk: 'read',
  examples: ['incident resolve bad deploy rolled back', 'incident resolve #3'],
  run: async (ctx, args) => {
    const { ref, text } = takeIncidentRef(args.summary);
    const incident = await incidentsOf(ctx).resolve(ctx.caller, ref, text || undefined);
    return ackReport(`Incident #${incident.number} resolved`, incident, 'The root message shows it resolved.');
  },
});
