// Issue 13 item 3: text from outside the bot (alert labels and annotations, pod log lines,
// Job log tails, typed arguments, incident titles) can't ping a channel, a person or a group,
// nor disguise a link, wherever the bot places it: blocks, a message's top-level text, files.
// Only the mentions the bot makes itself (core/mention.ts, from ids of Slack's shape) are live.
//
// "Live" is what Slack parses: a control sequence <…> in mrkdwn (text objects of type mrkdwn,
// and a message's top-level text, which Slack parses as mrkdwn and notifies from). plain_text
// objects are shown as typed and never parsed, so they are not searched.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import help from '../../commands/help.js';
import { describeAudit, type AuditRecord } from '../../src/core/audit.js';
import { mentionChannel, mentionGroup, mentionUser } from '../../src/core/mention.js';
import type { PendingAction } from '../../src/core/pending.js';
import type { Report, ReportSection } from '../../src/core/report.js';
import { alertReport } from '../../src/incidents/alert-threads.js';
import { ackReport, rootReport, type Incident } from '../../src/incidents/incidents.js';
import type { AlertmanagerWebhook } from '../../src/prometheus/alertmanager.js';
import { z } from 'zod';
import { renderJson, renderText } from '../../src/cli/render.js';
import { runCli } from '../../src/cli/run.js';
import { parseConfigText } from '../../src/config/load.js';
import { defineCommand } from '../../src/core/command.js';
import { NotFoundError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { confirmationCard, decidedCard, outcomeLine, suggestionMessage } from '../../src/slack/cards.js';
import { ThreadProgress } from '../../src/slack/poster.js';
import { alertBody, postAlert, serveAlerts } from '../e2e/alert-server.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { startBot, type BotHarness } from '../e2e/harness.js';
import { captureLog } from '../fixtures/engine.js';
import { recordingPoster, recordingReply, replyWithReport, type SentCall } from '../fixtures/slack-recorder.js';
import { CHANNELS, USERS } from '../fixtures/world.js';

/** What outside text may carry: every form Slack parses, and attempts to pass as escaped or as the bot's own mark. */
const SPECIAL_FORMS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!here|here>',
  '<!channel|@channel>',
  '<@U0HOSTILE>',
  '<@W0HOSTILE|the boss>',
  '<#C0HOSTILE>',
  '<#C0HOSTILE|general>',
  '<!subteam^S0HOSTILE>',
  '<!subteam^S0HOSTILE|@sre>',
  '<https://evil.example/login|https://vlinders.example/docs>',
  '<http://evil.example>',
  '<mailto:x@evil.example|support>',
  '<!date^1700000000^{date}|today>',
  '&lt;!channel&gt;',
  '&amp;lt;!here&amp;gt;',
  '\uE000deadbeefdeadbeefdeadbeef@U0HOSTILE\uE001',
  '\uE000',
  '\uE001',
  '<',
  '>',
  '&',
  '|',
  '`',
  '```',
  '*',
  '\n',
];

/** The mentions the bot made in these tests: the only ones allowed to be live. */
const BOT_MADE = { user: 'U0BOTMADE', channel: 'C0BOTMADE', group: 'S0BOTMADE' };
const ALLOWED = new Set([`<@${BOT_MADE.user}>`, `<#${BOT_MADE.channel}>`, `<!subteam^${BOT_MADE.group}>`]);

const hostile: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SPECIAL_FORMS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''));
/** Outside text with, here and there, a mention the bot made itself. */
const mixed: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 4, arbitrary: hostile }, { weight: 1, arbitrary: fc.constantFrom(mentionUser(BOT_MADE.user), mentionChannel(BOT_MADE.channel), mentionGroup(BOT_MADE.group)) }), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(' '));

/**
 * Hostile text in a field that holds an id (a requester, an audit record's user or channel). A
 * value with Slack's id shape (U0, C1) names someone the bot may mention, so it is left out here.
 */
const hostileId = hostile.filter((s) => !/^[UWCGS][A-Z0-9]{1,20}$/.test(s));

const section: fc.Arbitrary<ReportSection> = fc.record(
  {
    title: mixed,
    fields: fc.array(fc.record({ label: mixed, value: mixed }), { maxLength: 6 }),
    header: fc.array(hostile, { minLength: 2, maxLength: 2 }),
    rows: fc.array(fc.array(hostile, { minLength: 2, maxLength: 2 }), { maxLength: 5 }),
    lines: fc.array(mixed, { maxLength: 6 }),
  },
  { requiredKeys: [] },
);
const leafReport: fc.Arbitrary<Report> = fc.record(
  {
    title: mixed,
    status: fc.constantFrom('ok', 'warn', 'fail', 'info'),
    summary: mixed,
    sections: fc.array(section, { maxLength: 4 }),
    attachments: fc.array(fc.record({ filename: hostile, title: hostile, content: mixed }), { maxLength: 2 }),
    offers: fc.array(fc.record({ intro: mixed, words: fc.array(hostile, { minLength: 1, maxLength: 3 }) }), { maxLength: 2 }),
  },
  { requiredKeys: ['title', 'status'] },
) as fc.Arbitrary<Report>;
const report: fc.Arbitrary<Report> = fc.tuple(leafReport, fc.array(leafReport, { maxLength: 2 })).map(([r, thread]) => ({ ...r, thread }));

/** Every string Slack would parse for control sequences, with where it was. */
function parsedTexts(sent: SentCall[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push([where, o.text]);
      for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
    }
  };
  for (const { method, args } of sent) {
    if (method === 'files.uploadV2') {
      // Files are escaped as well, so that nothing in one reads as a mention or a link.
      out.push([`${method}.content`, String(args.content)], [`${method}.title`, String(args.title)]);
    } else {
      out.push([`${method}.text`, String(args.text)]);
      walk(args.blocks, `${method}.blocks`);
    }
  }
  return out;
}

/** Control sequences Slack would act on that the bot did not make. */
function liveForeign(sent: SentCall[]): string[] {
  const found: string[] = [];
  for (const [where, text] of parsedTexts(sent)) {
    for (const m of text.matchAll(/<[^<>]*>/g)) if (!ALLOWED.has(m[0])) found.push(`${where}: ${m[0]}`);
  }
  return found;
}

const allText = (sent: SentCall[]) => parsedTexts(sent).map(([, t]) => t).join('\n');

const pendingAction = (requester: string): PendingAction => ({
  id: 'AbCdEfGhIjKlMnOpQrStUvWx',
  command: 'help',
  words: [],
  requester,
  channel: 'C0OPS0001',
  risk: 'destructive',
  role: 'operator',
  createdAt: 0,
  expiresAt: 600_000,
  state: 'pending',
});

describe('outside text never pings or disguises a link', () => {
  it('any Report, in every field, posted, updated in place, shown ephemerally, with a footer', async () => {
    await fc.assert(
      fc.asyncProperty(report, mixed, async (r, footer) => {
        const { poster, sent } = recordingPoster();
        await poster.report({ channel: 'C0OPS0001' }, r, footer);
        await poster.updateReport('C0OPS0001', '1.1', r);
        await replyWithReport(sent, r);
        expect(liveForeign(sent)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('a report too long for messages goes into a file, escaped too', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 3 }), async (samples) => {
        const { poster, sent } = recordingPoster();
        // More blocks than three messages hold: the whole report goes into a file.
        const sections = Array.from({ length: 200 }, (_, i) => ({ title: `part ${i}`, lines: [`${i} ${samples[i % samples.length]}`] }));
        await poster.report({ channel: 'C0OPS0001' }, { title: samples[0] ?? 't', status: 'fail', summary: samples.join(' '), sections });
        expect(sent.some((s) => s.method === 'files.uploadV2')).toBe(true);
        expect(liveForeign(sent)).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });

  it('the confirmation card, its decided form and the outcome line, with the typed text and the plan from outside', async () => {
    await fc.assert(
      fc.asyncProperty(leafReport, hostile, hostileId, async (plan, typed, requester) => {
        const { poster, sent } = recordingPoster();
        const card = confirmationCard(pendingAction(requester), help, plan, typed);
        await poster.post({ channel: 'C0OPS0001' }, card.text, card.blocks);
        const status = `${outcomeLine(plan, BOT_MADE.user, 1234)} ${typed}`;
        await poster.update('C0OPS0001', '1.1', status, decidedCard(card.blocks, status, '✅'));
        expect(liveForeign(sent)).toEqual([]);
        // The requester is a mention only when the id has Slack's shape.
        expect(allText(sent).includes(`<@${requester}>`)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('an offered command, the audit mirror, progress lines and error replies', async () => {
    const record: fc.Arbitrary<AuditRecord> = fc.record({
      event: fc.constantFrom('invoke', 'deny', 'outcome', 'usage_error'),
      user: fc.oneof(hostileId, fc.constant(BOT_MADE.user)),
      channel: fc.oneof(hostileId, fc.constant(BOT_MADE.channel)),
      surface: fc.constantFrom('slack', 'cli'),
      command: hostile,
      args: hostile,
      outcome: hostile,
      detail: mixed,
    }) as fc.Arbitrary<AuditRecord>;
    await fc.assert(
      fc.asyncProperty(mixed, hostile, record, fc.array(mixed, { minLength: 1, maxLength: 3 }), async (intro, label, audit, progressLines) => {
        const { poster, sent } = recordingPoster();
        const offer = suggestionMessage(intro, [{ id: 'sugg-1', label }]);
        await poster.post({ channel: 'C0OPS0001' }, offer.text, offer.blocks);
        await recordingReply(sent).messages([{ text: offer.text, blocks: offer.blocks }], 'ephemeral');
        await poster.post({ channel: 'C0AUDIT01' }, describeAudit(audit));
        const progress = new ThreadProgress(poster, { channel: 'C0OPS0001', threadTs: '1.1' }, 0);
        for (const line of progressLines) await progress.update(line);
        await progress.flush();
        await recordingReply(sent).ephemeral(`❌ Unknown command \`${intro}\``);
        expect(liveForeign(sent)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('an Alertmanager notification: labels, annotations and group labels, as root, reply and update', async () => {
    const labels = fc.dictionary(fc.oneof(hostile, fc.constantFrom('alertname', 'severity', 'pod', 'namespace')), hostile, { maxKeys: 5 });
    const payload: fc.Arbitrary<AlertmanagerWebhook> = fc
      .record({ status: fc.constantFrom('firing', 'resolved'), groupLabels: labels, commonLabels: labels, commonAnnotations: labels, alerts: fc.array(fc.record({ labels, annotations: labels }), { minLength: 1, maxLength: 4 }) })
      .map((p) => ({
        version: '4',
        groupKey: '{}:{alertname="x"}',
        receiver: 'vlinders-ops',
        externalURL: 'http://alertmanager:9093',
        truncatedAlerts: 0,
        ...p,
        alerts: p.alerts.map((a) => ({ status: p.status, startsAt: '2026-12-06T00:00:00Z', ...a })),
      })) as fc.Arbitrary<AlertmanagerWebhook>;
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        const { poster, sent } = recordingPoster();
        const r = alertReport(p, { notifications: 3 });
        await poster.report({ channel: 'C0INCIDENT' }, r);
        await poster.report({ channel: 'C0INCIDENT', threadTs: '1.1' }, { ...r, sections: r.sections?.slice(1) });
        await poster.updateReport('C0INCIDENT', '1.1', r);
        expect(liveForeign(sent)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it("a declared incident: its title, timeline and summary from people, the commander a mention the bot made", async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.array(hostile, { minLength: 1, maxLength: 5 }), hostile, async (title, entries, summary) => {
        const incident: Incident = {
          number: 7,
          title,
          sev: 2,
          status: 'resolved',
          commander: BOT_MADE.user,
          channel: BOT_MADE.channel,
          openedAt: 0,
          resolvedAt: 60_000,
          summary,
          timeline: entries.map((text, i) => ({ at: i * 1000, user: i % 2 ? BOT_MADE.user : 'U0<!here>', text })),
        };
        const { poster, sent } = recordingPoster();
        await poster.report({ channel: BOT_MADE.channel }, rootReport(incident));
        await replyWithReport(sent, ackReport(`Incident #7: ${title}`, incident, summary));
        expect(liveForeign(sent)).toEqual([]);
        // What the bot made is still live.
        expect(allText(sent)).toContain(`<@${BOT_MADE.user}>`);
        expect(allText(sent)).toContain(`<#${BOT_MADE.channel}>`);
      }),
      { numRuns: 100 },
    );
  });

  it("the bot's own mentions are live in Slack and plain on the terminal, where its mark never shows", async () => {
    const { poster, sent } = recordingPoster();
    const r: Report = { title: 'whoami', status: 'info', sections: [{ fields: [{ label: 'User', value: mentionUser('U0BOTMADE') }, { label: 'On call', value: mentionGroup('S0BOTMADE') }] }] };
    await poster.report({ channel: 'C0OPS0001' }, r);
    expect(allText(sent)).toContain('<@U0BOTMADE>');
    expect(allText(sent)).toContain('<!subteam^S0BOTMADE>');
    for (const shown of [renderText(r), renderJson(r)]) {
      expect(shown).toContain('@U0BOTMADE');
      expect(shown).toContain('@S0BOTMADE');
      expect(shown).not.toMatch(/[\uE000\uE001]/);
    }
    // A log line and the terminal's error output: plain too (a lock held by someone, refused).
    const { stream, captured } = captureLog();
    createLogger('info', stream).info({ detail: `held by ${mentionUser('U0BOTMADE')}` }, `refused: held by ${mentionUser('U0BOTMADE')}`);
    expect(captured.text()).toContain('refused: held by @U0BOTMADE');
    expect(captured.text()).toContain('"detail":"held by @U0BOTMADE"');
    const held = defineCommand({ name: 'test-held', summary: 'Refused: a lock is held', usage: 'test-held', args: z.object({}), role: 'viewer', risk: 'read', run: async () => {
      throw new NotFoundError(`No free slot: held by ${mentionUser('U0BOTMADE')}.`);
    } });
    const err: string[] = [];
    const code = await runCli(['test-held'], { config: parseConfigText('cli:\n  role: viewer\n'), commands: [held], log: createLogger('silent'), user: 'cli:tester', io: { stdout: (t) => err.push(t), stderr: (t) => err.push(t) } });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('held by @U0BOTMADE');
    expect(err.join('\n')).not.toMatch(/[\uE000\uE001]/);
    // An id of any other shape is never made a mention.
    for (const id of ['U0<!here>', 'u0lower', 'U0 X', 'U0>', '!channel']) expect(`${mentionUser(id)}${mentionChannel(id)}${mentionGroup(id)}`).not.toMatch(/[\uE000\uE001]/);
  });
});

/** Everything the bot sent through the workspace emulator, as (where, text Slack parses). */
function emulatorTexts(bot: BotHarness): Array<[string, string]> {
  const sent: SentCall[] = [
    ...bot.emu.messages.flatMap((m) => [{ method: 'chat.postMessage', args: { text: m.text, blocks: m.blocks } }, ...m.updates.map((u) => ({ method: 'chat.update', args: { text: u.text, blocks: u.blocks } }))]),
    ...bot.emu.ephemerals.map((e) => ({ method: 'chat.postEphemeral', args: { text: e.text, blocks: e.blocks } })),
    ...bot.emu.uploads.map((u) => ({ method: 'files.uploadV2', args: { content: u.content, title: u.title } })),
  ];
  return parsedTexts(sent);
}

describe('outside text along every path, through Bolt, the workspace emulator and the cluster emulator', () => {
  const EVIL = '<!channel> <!here> <@U0HOSTILE> <!subteam^S0HOSTILE|@sre> <https://evil.example/login|https://vlinders.example/docs>';

  it('pod log lines (diagnose pod, the daily digest), typed text (cards, replies, the audit mirror) and alert labels never ping', async () => {
    const cluster = await startCluster({ crashLoopApiPod: true });
    const logs = cluster.world.hooks.logs;
    // Every pod logs hostile lines: ERROR lines for the digest's "Most frequent ERROR messages", the rest for diagnose pod.
    cluster.kube.setHooks({
      ...cluster.world.hooks,
      logs: async function* (req) {
        for await (const line of logs?.(req) ?? []) yield line;
        for (let i = 0; i < 5; i++) yield `2026-12-06T00:00:0${i}Z ERROR [vlinders.api] upstream said ${EVIL} request_id=${i}`;
        yield `2026-12-06T00:00:09Z INFO  [vlinders.api] ${EVIL}`;
      },
    });
    const config = clusterConfig();
    config.audit = { ...config.audit, channel: CHANNELS.general };
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
    const bot = await startBot({ config, services: cluster.services });
    const alerts = await serveAlerts(bot, config);
    try {
      const pod = cluster.world.cluster.broken.crashLoopPod as string;
      await bot.slash(USERS.viewer, CHANNELS.ops, `diagnose pod ${pod}`);
      await bot.emu.waitFor(() => bot.emu.messages.find((m) => JSON.stringify(m.blocks ?? []).includes('upstream said')));
      await bot.slash(USERS.viewer, CHANNELS.ops, 'digest daily');
      // Without --post the digest is a preview for the caller: ephemeral messages.
      await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => JSON.stringify(e.blocks ?? []).includes('Most frequent ERROR messages')), 30_000);
      await bot.slash(USERS.operator, CHANNELS.ops, `test-change 3 --note "${EVIL}"`);
      await bot.card(CHANNELS.ops);
      await bot.slash(USERS.viewer, CHANNELS.ops, `${EVIL} status`);
      await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.text.includes('Unknown command')));
      const res = await postAlert(alerts.url, alertBody({ alertname: 'VlindersApiErrors', severity: 'critical', pod: EVIL, summary: EVIL }, '{}:{alertname="VlindersApiErrors"}'));
      expect(res.status).toBe(200);
      await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.incidents));
      await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.general && m.text.includes('test-change')));
      await bot.bot.idle();

      const texts = emulatorTexts(bot);
      const all = texts.map(([, t]) => t).join('\n');
      // The hostile text arrived everywhere it was meant to, escaped.
      expect(all).toContain('&lt;!channel&gt;');
      // …in each place it was meant to reach: the pod's log, the digest preview, the card, the
      // unknown-command reply and the audit mirror (the alert thread is held to the check below).
      const escapedIn = (found: unknown) => /&lt;!(?:here|channel)&gt;/.test(JSON.stringify(found ?? null));
      const E = bot.emu;
      expect(escapedIn(E.messages.find((m) => m.channel === CHANNELS.ops && JSON.stringify(m.blocks ?? []).includes('upstream said'))), 'diagnose pod').toBe(true);
      expect(escapedIn(E.ephemerals.filter((e) => JSON.stringify(e.blocks ?? []).includes('Most frequent ERROR messages'))), 'digest').toBe(true);
      expect(escapedIn(E.messages.find((m) => JSON.stringify(m.blocks ?? []).includes('vlinders_approve'))), 'card').toBe(true);
      expect(escapedIn(E.ephemerals.find((e) => e.text.includes('Unknown command'))), 'unknown command').toBe(true);
      expect(escapedIn(E.messages.filter((m) => m.channel === CHANNELS.general)), 'audit mirror').toBe(true);
      // Live: only the mentions the bot made, of the people and channels it knows.
      const allowed = new Set([...Object.values(USERS).map((u) => `<@${u}>`), ...Object.values(CHANNELS).map((c) => `<#${c}>`)]);
      const foreign = texts.flatMap(([where, text]) => [...text.matchAll(/<[^<>]*>/g)].map((m) => m[0]).filter((m) => !allowed.has(m)).map((m) => `${where}: ${m}`));
      expect(foreign).toEqual([]);
      expect(all).toContain(`<@${USERS.viewer}>`);
    } finally {
      await alerts.close();
      await bot.close();
      await cluster.close();
    }
  }, 120_000);
});
