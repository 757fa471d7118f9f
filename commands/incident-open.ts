// Declares an incident: a thread in the incidents channel with the caller as commander.
// Viewer: whoever is on call must be able to declare one; it posts in Slack and changes
// nothing in the platform, so it needs no confirmation (risk 'read').
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ackReport, incidentsOf, type Severity } from '../src/incidents/incidents.js';

export default defineCommand({
  name: 'incident open',
  summary: 'Open an incident: a thread in the incidents channel, with you as commander',
  usage: 'incident open <title> [--sev 1-4]',
  args: z.object({
    title: z.string().trim().min(1, 'give the incident a title').max(150),
    sev: z.coerce.number().int().min(1, 'severity is 1 (worst) to 4').max(4, 'severity is 1 (worst) to 4').default(3),
  }),
  rest: 'title',
  role: 'viewer',
  risk: 'read',
  examples: ['incident open API latency over 2 s --sev 2'],
  run: async (ctx, { title, sev }) => {
    const incident = await incidentsOf(ctx).open(ctx.caller, title, sev as Severity);
    return ackReport(`Incident #${incident.number} opened`, incident, `SEV${incident.sev}, you are commander.`);
  },
});
