// Changes an incident's severity: a line in its channel, the pinned summary and the
// incidents channel's line updated, an entry in the timeline.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import { ackReport, incidentsOf, takeIncidentRef, type Severity } from '../src/incidents/incidents.js';

const USAGE = 'incident sev [#N] <1-4>';

export default defineCommand({
  name: 'incident sev',
  summary: "Change an incident's severity (1 worst, 4 least), in the incident's channel",
  usage: USAGE,
  args: z.object({ rest: z.string().max(100).optional() }),
  rest: 'rest',
  role: 'viewer',
  risk: 'read',
  examples: ['incident sev 1', 'incident sev #3 2'],
  run: async (ctx, args) => {
    const { ref, text } = takeIncidentRef(args.rest);
    if (!/^[1-4]$/.test(text)) throw new UsageError(`severity is 1 (worst) to 4${text ? `, not "${text.slice(0, 20)}"` : ''}`, USAGE);
    const incident = await incidentsOf(ctx).setSeverity(ctx.caller, ref, Number(text) as Severity);
    return ackReport(`Incident #${incident.number} is SEV${incident.sev}`, incident, 'Its summary and line show it.');
  },
});
