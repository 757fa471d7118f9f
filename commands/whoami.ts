import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { mentionUser } from '../src/core/mention.js';

export default defineCommand({
  name: 'whoami',
  summary: 'Show your vlinders-ops role in this channel',
  usage: 'whoami',
  args: z.object({}),
  role: 'viewer',
  risk: 'read',
  examples: ['whoami'],
  run: async (ctx) => ({
    title: 'whoami',
    status: 'info',
    sections: [
      {
        fields: [
          { label: 'User', value: ctx.caller.surface === 'slack' ? mentionUser(ctx.caller.userId) : ctx.caller.userId },
          { label: 'Role here', value: ctx.role },
          { label: 'May run', value: String(ctx.catalog.visible.length) + ' commands' },
        ],
      },
    ],
  }),
});
