// The Home tab's view: within Slack's 100 blocks however many incidents, operations and commands
// there are, valid for views.publish, and with nothing from outside read as mrkdwn.
import { describe, expect, it } from 'vitest';
import { validateView } from '../../src/sandbox/slack/index.js';
import { homeView, type HomeData } from '../../src/slack/home.js';
import type { Incident } from '../../src/incidents/incidents.js';

const now = Date.parse('2026-12-06T03:00:00Z');
const incident = (n: number): Incident => ({ number: n, title: `<!channel> incident ${n}`, sev: 2, status: 'open', commander: 'U0ADMIN01', channel: 'C0INCIDNT', ts: `1765000000.${String(n).padStart(6, '0')}`, openedAt: now - n * 60_000, timeline: [] });

function data(count: number): HomeData {
  return {
    user: 'U0OPERAT1',
    now,
    clusters: Array.from({ length: count }, (_, i) => ({ name: `cluster-${i}`, line: '✅ 10/10 nodes Ready' })),
    incidents: Array.from({ length: count }, (_, i) => ({ incident: incident(i + 1), link: `https://vlinders.slack.com/archives/C0INCIDNT/p${i}` })),
    running: Array.from({ length: count }, (_, i) => ({ command: `scale-gpu ${i}`, requester: 'U0OPERAT1', startedAt: now - 60_000, progress: `${i}/8 workers Ready` })),
    backup: '✅ newest: backup-20261206-020000Z.sql.gz, 1 h old',
    gpu: '1000 GPU nodes, 900/1000 GPUs requested',
    commands: Array.from({ length: count }, (_, i) => `command-${i}`),
  };
}

describe('homeView', () => {
  it.each([1, 10, 500])('with %i of everything stays within 100 blocks and validates as a Home tab', (count) => {
    const view = homeView(data(count));
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(validateView(view, 'home')).toEqual([]);
  });

  it('counts what it leaves out, and links each shown incident to its thread', () => {
    const text = JSON.stringify(homeView(data(500)).blocks);
    expect(text).toContain('…and 490 more.');
    expect(text).toContain('<https://vlinders.slack.com/archives/C0INCIDNT/p0|#1 SEV2 &lt;!channel&gt; incident 1>');
    expect(text).toContain('<@U0ADMIN01>');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('0/8 workers Ready');
  });
});
