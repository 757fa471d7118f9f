import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import type { ReportSection } from '../src/core/report.js';
import { mentionGroup, mentionUser } from '../src/core/mention.js';

export default defineCommand({
  name: 'contacts',
  summary: 'Emergency contacts and who is on call',
  usage: 'contacts',
  args: z.object({}),
  role: 'viewer',
  risk: 'read',
  examples: ['contacts'],
  run: async (ctx) => {
    const { contacts, oncall } = ctx.config;
    const slack = ctx.caller.surface === 'slack';
    const user = (id: string) => (slack ? mentionUser(id) : id);
    const sections: ReportSection[] = [];
    if (oncall) {
      const fields = [
        ...(oncall.group ? [{ label: 'On call', value: slack ? mentionGroup(oncall.group) : oncall.group }] : []),
        ...(oncall.rota ? [{ label: 'Rota', value: oncall.rota }] : []),
        ...(oncall.note ? [{ label: 'Note', value: oncall.note }] : []),
      ];
      if (fields.length > 0) sections.push({ title: 'On call', fields });
    }
    if (contacts.length > 0) {
      sections.push({
        title: 'Emergency contacts',
        header: ['name', 'role', 'slack', 'phone', 'email'],
        rows: contacts.map((c) => [c.name, c.role, c.slack ? user(c.slack) : '—', c.phone ?? '—', c.email ?? '—']),
      });
    }
    if (sections.length === 0) {
      return { title: 'contacts', status: 'warn', summary: 'No contacts or on-call are configured: add `contacts:` and `oncall:` to the vlinders-ops config.' };
    }
    return { title: 'contacts', status: 'info', summary: `${contacts.length} emergency contact${contacts.length === 1 ? '' : 's'}${oncall?.group ? ', and the on-call group' : ''}.`, sections };
  },
});
