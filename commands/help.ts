import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { NotFoundError } from '../src/core/errors.js';

const RISK_LABEL = { read: 'reads', change: 'changes (confirm)', destructive: 'destructive (two people)' } as const;

export default defineCommand({
  name: 'help',
  summary: 'List the commands you may run here, or explain one',
  usage: 'help [command]',
  args: z.object({ topic: z.string().max(80).optional() }),
  rest: 'topic',
  role: 'viewer',
  risk: 'read',
  examples: ['help', 'help scale-gpu'],
  run: async (ctx, { topic }) => {
    if (topic) {
      const command = ctx.catalog.find(topic);
      if (!command) throw new NotFoundError(`No command \`${topic}\` that you may run here. Try \`help\`.`);
      return {
        title: `help ${command.name}`,
        status: 'info',
        ephemeral: true,
        summary: command.summary,
        sections: [
          {
            fields: [
              { label: 'Usage', value: `\`${command.usage}\`` },
              { label: 'Needs', value: `${command.role} role` },
              { label: 'Effect', value: RISK_LABEL[command.risk] },
            ],
          },
          ...(command.examples?.length ? [{ title: 'Examples', lines: command.examples.map((e) => `\`${e}\``) }] : []),
        ],
      };
    }
    return {
      title: 'vlinders-ops commands',
      status: 'info',
      // What one person may run, for them alone: the channel isn't told each time someone asks.
      ephemeral: true,
      summary: `You are ${ctx.role} here. \`help <command>\` explains one.`,
      // One line per command, not a table: a three-column table of long summaries is wider
      // than a Slack window, which wraps or cuts it into something unreadable.
      sections: [{ lines: ctx.catalog.visible.map((c) => `\`${c.usage}\` · ${c.summary} · _${RISK_LABEL[c.risk]}_`) }],
    };
  },
});
