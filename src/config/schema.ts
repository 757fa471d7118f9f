// The config file's schema. One source of truth: the loader validates with it, and the
// Helm chart's values.schema.json is generated from it (a later issue).
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'admin'] as const;

const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id like U012AB3CD');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user-group id like S0614TZR7');
const slackChannelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'expected a Slack channel id like C012AB3CD');

const binding = z
  .object({
    users: z.array(slackUserId).default([]),
    groups: z.array(slackGroupId).default([]),
    /** When set, this binding only holds in these channels. */
    channels: z.array(slackChannelId).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    rbac: z
      .object({
        roles: z
          .object({ viewer: binding.optional(), operator: binding.optional(), admin: binding.optional() })
          .strict()
          .default({}),
        /** Who may approve destructive actions (a second person; they also need the command's role). */
        approvers: z
          .object({ users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]) })
          .strict()
          .default({ users: [], groups: [] }),
        /** When set, change and destructive commands only run in these channels. */
        changeChannels: z.array(slackChannelId).optional(),
        /** How long a resolved user group's members are trusted. */
        groupCacheSeconds: z.number().int().min(0).max(86_400).default(300),
      })
      .strict()
      .default({ roles: {}, approvers: { users: [], groups: [] }, groupCacheSeconds: 300 }),
    confirmations: z
      .object({ ttlMinutes: z.number().positive().max(24 * 60).default(10) })
      .strict()
      .default({ ttlMinutes: 10 }),
    audit: z
      .object({
        /** Mirror every audit line to this channel, as well as to the log. */
        channel: slackChannelId.optional(),
      })
      .strict()
      .default({}),
    slack: z
      .object({
        /** HTTP mode listens here (Socket Mode needs no port). */
        port: z.number().int().min(0).max(65_535).default(3000),
        /** The slash command this app answers. */
        command: z.string().regex(/^\/[a-z0-9_-]+$/, 'expected a slash command like /vlinders').default('/vlinders'),
      })
      .strict()
      .default({ port: 3000, command: '/vlinders' }),
    cli: z
      .object({
        /** The role of whoever runs the terminal CLI (they already hold its kubeconfig). */
        role: z.enum(ROLES).optional(),
      })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type Role = (typeof ROLES)[number];

/** Secrets and endpoints that come from the environment, never from the file. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'expected a bot token starting with xoxb-').optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'expected an app-level token starting with xapp-').optional(),
  SLACK_API_URL: z.url().optional(),
  VLINDERS_OPS_CONFIG: z.string().default('./vlinders-ops.yaml'),
});

export type Env = z.output<typeof envSchema>;
