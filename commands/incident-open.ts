// Declares an incident: its own channel (#inc-YYYYMMDD-n-slug) with a commander (the caller
// unless --commander names someone), the on-call group invited and a pinned summary; run from
// an alert thread (the Declare button) it is linked to that alert. Operator: it creates a
// channel and invites people, so a viewer can't; it changes nothing in the platform, so it
// needs no confirmation ('read'). Its form (slack/forms.ts) asks the commander with a
// users_select because this command takes `commander`.
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { mentionUser, typedUserId } from '../src/core/mention.js';
import { ackReport, incidentsOf, type Severity } from '../src/incidents/incidents.js';

const NOT_A_USER = 'name one person with an @mention, e.g. --commander @alice';

export default defineCommand({
  name: 'incident open',
  summary: 'Open an incident: its own channel, with a commander (you by default) and on-call invited',
  usage: 'incident open <title> [--sev 1-4] [--commander @user]',
  args: z.object({
    title: z.string().trim().min(1, 'give the incident a title').max(150),
    sev: z.coerce.number().int().min(1, 'severity is 1 (worst) to 4').max(4, 'severity is 1 (worst) to 4').default(3),
    commander: z
      .string()
      .optional()
      .refine((text) => text === undefined || typedUserId(text) !== undefined, NOT_A_USER)
      .transform((text) => (text === undefined ? undefined : typedUserId(text))),
  }),
  rest: 'title',
  role: 'operator',
  risk: 'read',
  examples: ['incident open API latency over 2 s --sev 2'],
  run: async (ctx, { title, sev, commander }) => {
    const incident = await incidentsOf(ctx).open(ctx.caller, title, sev as Severity, commander);
    const who = incident.commander === ctx.caller.userId ? 'you are commander' : `${mentionUser(incident.commander)} is commander`;
    return ackReport(`Incident #${incident.number} opened`, incident, `SEV${incident.sev}, ${who}.${incident.alert ? ' Linked to this alert.' : ''}`);
  },
});
