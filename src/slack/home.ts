// The App Home tab: per person, what the platform looks like now (each cluster's health, open
// incidents, operations running, the newest backup, the GPU fleet) and the commands they may run
// as buttons that open forms. Always within Slack's 100 blocks a view.
import { errorMessage } from '../core/errors.js';
import { mentionUser } from '../core/mention.js';
import { surveyCluster, gpuInventory } from '../kube/survey.js';
import { vlindersNamespaces } from '../config/schema.js';
import { backupSection } from '../digest/backups.js';
import type { BackupListing } from '../digest/sources.js';
import { plural } from '../digest/format.js';
import type { Incident } from '../incidents/incidents.js';
import type { FormLookup } from './forms.js';
import { escapeMrkdwn, truncate } from './mrkdwn.js';

/** A Home tab holds at most 100 blocks (docs.slack.dev/surfaces/app-home). */
export const HOME_MAX_BLOCKS = 100;
/** Shown of each list; the rest is counted in one line. */
const SHOWN = 10;
/** Buttons per actions block (Slack: 25). */
const BUTTONS_PER_ROW = 25;
/** The action_id prefix of the Home tab's command buttons; the value is the command's name. */
export const HOME_FORM_ACTION = 'vlinders_home_form';

type Block = Record<string, unknown> & { type: string };

export interface RunningOperation {
  command: string;
  requester: string;
  startedAt: number;
  /** The newest progress line. */
  progress?: string;
  /** Where its card is. */
  link?: string;
}

export interface HomeData {
  user: string;
  now: number;
  clusters: Array<{ name: string; line: string }>;
  incidents: Array<{ incident: Incident; link?: string }>;
  running: RunningOperation[];
  backup: string;
  gpu: string;
  /** The commands this person may run. */
  commands: string[];
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 3000) } });
const header = (text: string): Block => ({ type: 'header', text: { type: 'plain_text', text: truncate(text, 150) } });
const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, 3000) }] });
const link = (url: string | undefined, text: string) => (url ? `<${url}|${text}>` : text);
const minutes = (ms: number) => `${Math.max(0, Math.round(ms / 60_000))} min`;

/** At most SHOWN of a list as one section each, and a line counting the rest. */
function listed<T>(items: readonly T[], line: (item: T) => string, none: string): Block[] {
  if (items.length === 0) return [context(none)];
  const blocks = items.slice(0, SHOWN).map((item) => section(line(item)));
  if (items.length > SHOWN) blocks.push(context(`…and ${items.length - SHOWN} more.`));
  return blocks;
}

export function homeView(data: HomeData): { type: 'home'; blocks: Block[] } {
  // Someone without a role sees nothing of the platform.
  if (data.commands.length === 0) return { type: 'home', blocks: [header('Vlinders operations'), context('You hold no vlinders-ops role: ask an admin for one.')] };
  const blocks: Block[] = [
    header('Vlinders operations'),
    context(escapeMrkdwn(`For ${mentionUser(data.user)} · updated ${new Date(data.now).toISOString().slice(0, 16).replace('T', ' ')} UTC`)),
    header('Clusters'),
    ...listed(data.clusters, (c) => `*${escapeMrkdwn(c.name)}*: ${escapeMrkdwn(c.line)}`, 'No Kubernetes cluster is configured.'),
    section(`*GPU fleet*: ${escapeMrkdwn(data.gpu)}`),
    section(`*Backups*: ${escapeMrkdwn(data.backup)}`),
    { type: 'divider' },
    header(`Open incidents (${data.incidents.length})`),
    ...listed(
      data.incidents,
      ({ incident, link: url }) => `${link(url, escapeMrkdwn(`#${incident.number} SEV${incident.sev} ${incident.title}`))}${escapeMrkdwn(` · commander ${mentionUser(incident.commander)} · open ${minutes(data.now - incident.openedAt)}`)}`,
      'No open incidents.',
    ),
    header(`Running now (${data.running.length})`),
    ...listed(
      data.running,
      (op) => `${link(op.link, escapeMrkdwn(op.command))}${escapeMrkdwn(` · by ${mentionUser(op.requester)} · ${minutes(data.now - op.startedAt)}${op.progress ? `\n${truncate(op.progress, 500)}` : ''}`)}`,
      'Nothing is running.',
    ),
    { type: 'divider' },
    header('Your commands'),
  ];
  for (let i = 0; i < data.commands.length; i += BUTTONS_PER_ROW) {
    blocks.push({
      type: 'actions',
      elements: data.commands.slice(i, i + BUTTONS_PER_ROW).map((name, j) => ({
        type: 'button',
        action_id: `${HOME_FORM_ACTION}_${i + j}`,
        text: { type: 'plain_text', text: truncate(name, 75) },
        value: name,
      })),
    });
  }
  // The lists are bounded above; this keeps the promise whatever grows later.
  return { type: 'home', blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}

/** One line of a cluster's health: nodes Ready and what needs attention. */
export async function clusterLine(lookup: FormLookup): Promise<string> {
  try {
    return await lookup.read(async ({ services, config }) => {
      const survey = await surveyCluster(services.kube(), vlindersNamespaces(config.namespaces));
      const fails = survey.findings.filter((f) => f.severity === 'fail').length;
      const mark = fails > 0 ? '❌' : survey.findings.length > 0 ? '⚠️' : '✅';
      return `${mark} ${survey.nodes.ready}/${survey.nodes.total} nodes Ready · ${survey.findings.length === 0 ? 'nothing needs attention' : `${plural(survey.findings.length, 'thing')} need attention`}`;
    });
  } catch (err) {
    return `⚠️ could not be read: ${errorMessage(err)}`;
  }
}

/** The GPU fleet in one line: nodes, GPUs in use of those allocatable, nodes not Ready. */
export async function gpuLine(lookup: FormLookup): Promise<string> {
  try {
    return await lookup.read(async ({ services }) => {
      const nodes = await gpuInventory(services.kube());
      const ready = nodes.filter((n) => n.ready);
      const allocatable = ready.reduce((sum, n) => sum + n.allocatable, 0);
      const requested = nodes.reduce((sum, n) => sum + n.requested, 0);
      const down = nodes.length - ready.length;
      return `${plural(nodes.length, 'GPU node')}, ${requested}/${allocatable} GPUs requested${down > 0 ? `, ${down} not Ready` : ''}`;
    });
  } catch (err) {
    return `could not be read: ${errorMessage(err)}`;
  }
}

/** The newest backup's age, as the daily digest says it; `listing` is absent where backups aren't configured. */
export async function backupLine(listing: BackupListing | undefined, now: number): Promise<string> {
  // S3 unreachable must not hold the tab: the listing gets 3 s.
  const { section: s } = await backupSection(listing, { now, signal: AbortSignal.timeout(3000) });
  return (s.lines ?? []).join(' ');
}
