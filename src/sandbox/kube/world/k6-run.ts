// The k6 Job's pod: prints what `k6 run --summary-export=/dev/stdout` prints to the log, with
// the numbers the test sets. The summary is k6's documented --summary-export JSON (metrics
// flattened: trends carry avg/min/med/max/p(90)/p(95), rates value/passes/fails, counters
// count/rate), indented with four spaces as k6 writes it.
import type { ClusterState } from '../contract.js';
import type { JobRunner } from './job-runs.js';

export interface K6RunOptions {
  /** http_req_duration p(95) in ms (default 212.4). */
  p95Ms?: number;
  /** http_req_failed rate, 0–1 (default 0.0004). */
  errorRate?: number;
  /** http_reqs per second (default 1480.2). */
  rps?: number;
  /** k6's exit code (99: a threshold in the script failed). */
  exitCode?: number;
}

const DURATION = /^(\d+)([smh])$/;

export function k6Runner(opts: K6RunOptions = {}): JobRunner {
  return async (view) => {
    const args = view.args;
    const vus = Number(args[args.indexOf('--vus') + 1] ?? 1);
    const m = DURATION.exec(args[args.indexOf('--duration') + 1] ?? '30s');
    const seconds = m ? Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as const)[m[2] as 's' | 'm' | 'h'] : 30;
    const p95 = opts.p95Ms ?? 212.4;
    const rate = opts.errorRate ?? 0.0004;
    const rps = opts.rps ?? 1480.2;
    const count = Math.round(rps * seconds);
    const failed = Math.round(count * rate);
    view.print('');
    view.print(`  execution: local`);
    view.print(`     script: ${args.find((a) => a.endsWith('.js')) ?? '?'}`);
    view.print(`     output: -`);
    view.print('');
    view.print(`  scenarios: (100.00%) 1 scenario, ${vus} max VUs, ${seconds + 30}s max duration (incl. graceful stop):`);
    view.print(`           * default: ${vus} looping VUs for ${seconds}s (gracefulStop: 30s)`);
    view.print('');
    view.print(`running (${seconds}s), 000/${vus} VUs, ${count} complete and 0 interrupted iterations`);
    const summary = {
      root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: {}, checks: {} },
      options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], summaryTimeUnit: '', noColor: false },
      state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: seconds * 1000 + 12.5 },
      metrics: {
        http_req_duration: { avg: p95 * 0.55, min: 12.1, med: p95 * 0.5, max: p95 * 3.1, 'p(90)': p95 * 0.9, 'p(95)': p95 },
        http_req_failed: { passes: failed, fails: count - failed, value: count ? failed / count : 0 },
        http_reqs: { count, rate: rps },
        iterations: { count, rate: rps },
        vus: { value: vus, min: vus, max: vus },
        vus_max: { value: vus, min: vus, max: vus },
        data_received: { count: count * 1843, rate: rps * 1843 },
        data_sent: { count: count * 412, rate: rps * 412 },
      },
    };
    if (args.includes('--summary-export') || args.some((a) => a.startsWith('--summary-export='))) for (const line of JSON.stringify(summary, null, 4).split('\n')) view.print(line);
    return opts.exitCode ?? 0;
  };
}

/** The load test script ConfigMap the Job mounts (what an operator would apply). */
export function seedLoadtestScript(state: ClusterState, namespace: string): void {
  if (state.get('v1', 'ConfigMap', namespace, 'vlinders-loadtest')) return;
  const script = [
    "import http from 'k6/http';",
    "import { check } from 'k6';",
    '',
    'const BASE = __ENV.BASE_URL;',
    '',
    'export default function () {',
    "  const res = http.get(`${BASE}/v1/models`);",
    "  check(res, { 'status is 200': (r) => r.status === 200 });",
    '}',
  ].join('\n');
  state.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vlinders-loadtest', namespace, labels: { 'app.kubernetes.io/part-of': 'vlinders' } }, data: { 'loadtest.js': script } });
}
