// Declares an incident: its own channel (#inc-YYYYMMDD-n-slug) with the caller as commander,
// the on-call group invited and a pinned summary; run from an alert thread (the Declare
// button) it is linked to that alert. Operator: it creates a channel and invites people, so
// a viewer can't; it changes nothing in the platform, so it needs no confirmation ('read').
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ackReport, incidentsOf, type Severity } from '../src/incidents/incidents.js';

export default defineCommand({
  name: 'incident open',
  summary: 'Open an incident: its own channel, with you as commander and on-call invited',
  usage: 'incident open <title> [--sev 1-4]',
  args: z.object({
    title: z.string().trim().min(1, 'give the incident a title').max(150),
    sev: z.coerce.number().int().min(1, 'severity is 1 (worst) to 4').max(4, 'severity is 1 (worst) to 4').default(3),
  }),
  rest: 'title',
  role: 'operator',
  risk: 'read',
  examples: ['incident open API latency over 2 s --sev 2'],
  run: async (ctx, { title, sev }) => {
    const incident = await incidentsOf(ctx).open(ctx.caller, title, sev as Severity);
    return ackReport(`Incident #${incident.number} opened`, incident, `SEV${incident.sev}, you are commander.${incident.alert ? ' Linked to this alert.' : ''}`);
  },
});
