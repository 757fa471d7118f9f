// Container logs for the vlinders-api pods: request lines with the odd upstream or database
// error over the last hour, stable across reads (each line follows from its timestamp), and
// for a crash-looping pod the last attempt's startup ending in the error that killed it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterState, LogRequest, LogSource } from '../contract.js';
import type { Pod } from './objects.js';
import { noise } from './objects.js';

export interface VlindersLogsOptions {
  state: ClusterState;
  /** One line per interval (default 5 s), over the last `historyMs` (default 1 h). */
  intervalMs?: number;
  historyMs?: number;
  now?: () => number;
}

const ROUTES = ['POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings', 'GET /v1/models', 'POST /v1/search'];
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const RAY = 'http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8000';

const stamp = (ms: number): string => new Date(ms).toISOString();

/** The line a healthy pod logged at time t. */
function line(pod: string, t: number): string {
  const r = noise(`${pod}@${t}`);
  const id = Math.floor(noise(`${pod}#${t}`) * 2 ** 32).toString(16).padStart(8, '0');
  if (r < 0.03) return `${stamp(t)} ERROR [vlinders.api] upstream timeout after 30.0s: POST ${RAY}/v1/chat/completions request_id=${id}`;
  if (r < 0.05) return `${stamp(t)} ERROR [vlinders.db] connection to postgres.vlinders-platform.svc:5432 failed: FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute request_id=${id}`;
  if (r < 0.08) return `${stamp(t)} WARN  [vlinders.api] slow request: POST /v1/chat/completions took 8.${Math.floor(r * 1000)}s model=${MODEL} request_id=${id}`;
  const route = ROUTES[Math.floor(r * 997) % ROUTES.length] as string;
  const ms = 20 + Math.floor(noise(`${pod}%${t}`) * 900);
  return `${stamp(t)} INFO  [vlinders.api] ${route} 200 ${ms}ms${route.includes('completions') ? ` model=${MODEL}` : ''} request_id=${id}`;
}

/** The last attempt of a container that keeps crashing: it gets as far as the database. */
function crashLines(end: number): string[] {
  const msgs = [
    'INFO  [vlinders.api] starting vlinders-api 1.8.2 (python 3.12.7, uvicorn 0.32.1)',
    'INFO  [vlinders.db] connecting to postgres.vlinders-platform.svc:5432/vlinders',
    'ERROR [vlinders.db] connection failed: password authentication failed for user "vlinders"',
    'ERROR [uvicorn.error] Traceback (most recent call last): asyncpg.exceptions.InvalidPasswordError: password authentication failed for user "vlinders"',
    'ERROR [uvicorn.error] Application startup failed. Exiting.',
  ];
  return msgs.map((m, i) => `${stamp(end - (msgs.length - i) * 150)} ${m}`);
}

const crashing = (pod: Pod): boolean =>
  pod.status.containerStatuses?.some((c) => (c.state.waiting as { reason?: string } | undefined)?.reason === 'CrashLoopBackOff') ?? false;

export function vlindersLogs(opts: VlindersLogsOptions): LogSource {
  const interval = opts.intervalMs ?? 5000;
  const history = opts.historyMs ?? 3_600_000;
  const now = opts.now ?? Date.now;
  return (req: LogRequest) => {
    const pod = opts.state.get('v1', 'Pod', req.namespace, req.pod) as Pod | undefined;
    if (pod?.metadata.labels?.['app.kubernetes.io/name'] !== 'vlinders-api') return [];
    const t0 = now();
    const since = req.sinceSeconds !== undefined ? t0 - req.sinceSeconds * 1000 : -Infinity;
    let lines: string[];
    if (crashing(pod)) {
      lines = crashLines(t0 - 20_000).filter((l) => Date.parse(l.slice(0, 24)) >= since);
    } else {
      // Only the lines asked for are made: tailLines bounds the window as much as sinceSeconds.
      const last = Math.floor(t0 / interval) * interval;
      const tail = req.tailLines !== undefined ? last - req.tailLines * interval + interval : -Infinity;
      lines = [];
      for (let t = Math.max(last - history + interval, Math.ceil(since / interval) * interval, tail); t <= last; t += interval) lines.push(line(req.pod, t));
    }
    if (req.tailLines !== undefined) lines = req.tailLines === 0 ? [] : lines.slice(-req.tailLines);
    if (!req.follow || crashing(pod)) return lines;
    // Following: the history, then a line per interval until the reader stops.
    return (async function* () {
      yield* lines;
      for (let t = Math.floor(t0 / interval) * interval + interval; ; t += interval) {
        await sleep(Math.max(0, t - now()));
        yield line(req.pod, t);
      }
    })();
  };
}
