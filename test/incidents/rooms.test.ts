// Incident channel names and the postmortem draft's handling of outside text.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { declareIncidentWords } from '../../src/incidents/alert-threads.js';
import { markdownText, postmortemMarkdown, roomName } from '../../src/incidents/rooms.js';
import { channelNameError } from '../../src/sandbox/slack/channels.js';

const DAY = Date.parse('2026-01-05T23:59:00Z');

describe('roomName', () => {
  it('is inc-YYYYMMDD-n-slug in UTC, from the title\'s letters and digits', () => {
    expect(roomName(DAY, 2, 'API p95 over 2 s')).toBe('inc-20260105-2-api-p95-over-2-s');
    expect(roomName(DAY, 1, 'Überlast: <!channel> & "GPU"')).toBe('inc-20260105-1-uberlast-channel-gpu');
    expect(roomName(DAY, 3, '🔥🔥')).toBe('inc-20260105-3');
  });

  it('is a name Slack takes, whatever the title', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 1, max: 99_999 }), (title, n) => {
        const name = roomName(DAY, n, title);
        expect(channelNameError(name)).toBeUndefined();
        expect(name.startsWith(`inc-20260105-${n}`)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the postmortem draft', () => {
  it('makes outside text inert: no heading, link, emphasis or code from a title or an entry', () => {
    const hostile = '# Owned\n[click](https://evil.example) **bold** `code` <b>x</b>';
    const md = postmortemMarkdown({
      number: 4,
      title: hostile,
      sev: 2,
      commander: 'U0ADMIN01',
      openedAt: 0,
      resolvedAt: 3_600_000,
      timeline: [{ at: 0, user: 'U0ADMIN01', text: hostile, kind: 'command' }],
      followUps: [hostile],
    });
    expect(md).not.toMatch(/^# Owned/m);
    expect(md).not.toContain('[click](');
    expect(md).not.toContain('**bold**');
    expect(md).toContain('\\[click\\]\\(https://evil\\.example\\)');
    // Each piece of outside text stays on its one line.
    expect(md.split('\n').filter((l) => l.includes('Owned'))).toHaveLength(4);
    expect(markdownText('a\n\n# b')).toBe('a \\# b');
  });

  it('says the alert had not resolved when it has no end', () => {
    const md = postmortemMarkdown({ number: 1, title: 't', sev: 3, commander: 'U1', openedAt: 0, alert: { name: 'X', startsAt: '2018-03-07T06:33:21.873077559-05:00' }, timeline: [], followUps: [] });
    expect(md).toContain('Alert X fired from 2018-03-07T11:33:21Z; it had not resolved when the incident was.');
    expect(md).toContain('- None recorded.');
  });
});

describe('the Declare button', () => {
  it('runs incident open with only the alert name\'s safe characters: a label can add no flag or word', () => {
    expect(declareIncidentWords({ name: 'KubePodCrashLooping', severity: 'critical' })).toEqual(['incident', 'open', 'KubePodCrashLooping', '--sev', '2']);
    expect(declareIncidentWords({ name: '--sev 1 <!channel>', severity: 'warning' })).toEqual(['incident', 'open', 'sev-1-channel', '--sev', '3']);
    expect(declareIncidentWords({})).toEqual(['incident', 'open', 'alert', '--sev', '3']);
  });
});
