// manifest.json against Slack's official manifest schema, and its bot scopes against the
// Web API methods the bot really calls in a full run through the emulator.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CHANNELS, SRE_GROUP, USERS, testConfig } from '../fixtures/world.js';
import { startBot } from '../e2e/harness.js';
import { readCaptured } from '../fixtures/captured.js';
import { SHORTCUTS, SHORTCUT_LIST } from '../../src/slack/surfaces.js';

const read = (url: URL) => JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
const manifest = read(new URL('../../manifest.json', import.meta.url)) as {
  features: { slash_commands: Array<{ command: string }>; shortcuts: Array<{ callback_id: string; type: string; name: string }>; app_home: { home_tab_enabled: boolean } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; message_menu_options_url?: string }; socket_mode_enabled: boolean; event_subscriptions: { bot_events: string[] } };
};
const schemaV1 = JSON.parse(readCaptured('slack/slackapi-manifest-schema_schemas_manifest.schema.1.0.0.json')) as Record<string, unknown>;

// Which bot scope each Web API method needs (docs.slack.dev/reference/methods).
const SCOPE_OF_METHOD: Record<string, string | null> = {
  'auth.test': null,
  'apps.connections.open': null, // app-level token, connections:write
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.update': 'chat:write',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
  'usergroups.users.list': 'usergroups:read',
  'conversations.create': 'channels:manage',
  'conversations.invite': 'channels:manage',
  'conversations.history': 'channels:history',
  'pins.add': 'pins:write',
  'chat.getPermalink': null,
  // Views need no scope of their own: a trigger_id or the app's own Home tab is the permission.
  'views.open': null,
  'views.push': null,
  'views.update': null,
  'views.publish': null,
};

describe('manifest.json', () => {
  it("is valid against Slack's official schema (v1)", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schemaV1);
    const ok = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema does reject a broken manifest (the check is real)', () => {
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(schemaV1);
    expect(validate({ ...manifest, display_information: { name: '' } })).toBe(false);
    expect(validate({ ...manifest, settings: { ...manifest.settings, socket_mode_enabled: 'yes' } })).toBe(false);
  });

  it('declares /vlinders, interactivity and Socket Mode', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/vlinders']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('declares the Home tab, its event, the options URL and exactly the shortcuts the bot handles', () => {
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.settings.interactivity.message_menu_options_url).toMatch(/\/slack\/events$/);
    expect(manifest.features.shortcuts.map((s) => s.callback_id).sort()).toEqual(Object.values(SHORTCUTS).sort());
    expect(manifest.features.shortcuts.map(({ callback_id, type, name }) => ({ callback_id, type, name }))).toEqual(SHORTCUT_LIST);
  });

  it('asks for exactly the bot scopes the code uses', async () => {
    const config = testConfig();
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
    config.oncall = { group: SRE_GROUP };
    const h = await startBot({ config });
    try {
      // An incident channel, and a 📌 in it (the reaction_added event needs reactions:read).
      await h.slash(USERS.admin, CHANNELS.ops, 'incident open Disk full');
      const room = await h.emu.waitFor(() => [...h.emu.conversations.values()].find((c) => c.name.startsWith('inc-') && c.pins?.size));
      await h.react(USERS.groupMember, room.id, h.emu.userPosts(room.id, USERS.groupMember, 'disk at 99%').ts, 'pushpin');
      await h.emu.waitFor(() => h.emu.calls.some((c) => c.method === 'conversations.history' && c.ok));
      await h.slash(USERS.groupMember, CHANNELS.general, 'whoami');
      await h.slash(USERS.viewer, CHANNELS.ops, 'test-lines 50000');
      await h.slash(USERS.operator, CHANNELS.ops, 'test-change 1');
      await h.slash(USERS.stranger, CHANNELS.ops, 'help');
      const { message } = await h.card(CHANNELS.ops);
      await h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve');
      await h.emu.waitFor(() => message.text.includes('Done') && h.emu.uploads.length > 0 && h.emu.ephemerals.length > 0, 10_000);
      const methods = new Set(h.emu.calls.map((c) => c.method));
      for (const method of methods) expect(Object.hasOwn(SCOPE_OF_METHOD, method), `${method}: add its scope to the table and the manifest`).toBe(true);
      const needed = new Set([...methods].map((m) => SCOPE_OF_METHOD[m]).filter((s): s is string => !!s));
      needed.add('commands'); // the slash command itself
      needed.add('reactions:read'); // the reaction_added event above
      // A post in a public channel the bot never joined needs chat:write.public (#general here).
      const publicUnjoined = h.emu.calls.filter((c) => c.method === 'chat.postMessage' && c.ok && !h.emu.conversations.get(String(c.args.channel))?.bot);
      expect(publicUnjoined.length).toBeGreaterThan(0);
      needed.add('chat:write.public');
      expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
    } finally {
      await h.close();
    }
  });
});
