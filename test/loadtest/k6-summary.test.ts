// Reading k6's summary out of a pod log and judging the runbook's thresholds on it.
import { describe, expect, it } from 'vitest';
import { judge, measuresOf, summaryFromLog } from '../../src/loadtest/k6-summary.js';
import { k6Runner } from '../../src/sandbox/kube/world/k6-run.js';
import { configSchema } from '../../src/config/schema.js';

const thresholds = configSchema.parse({}).loadtest.thresholds;

async function* from(lines: string[]) {
  yield* lines;
}

/** The log the world's k6 pod prints for these numbers (k6's --summary-export shape). */
async function k6Log(opts: Parameters<typeof k6Runner>[0], args = ['run', '--vus', '10', '--duration', '30s', '--summary-export', '/dev/stdout', '/scripts/loadtest.js']) {
  const lines: string[] = [];
  await k6Runner(opts)({ job: {} as never, pod: {} as never, env: {}, args, command: [], claims: {}, print: (l) => lines.push(l) });
  return lines;
}

describe('k6 summary', () => {
  it('is found in the log between k6 text and read from --summary-export', async () => {
    const lines = await k6Log({ p95Ms: 612.5, errorRate: 0.02, rps: 850 });
    expect(lines.filter((l) => l === '{')).toHaveLength(1);
    const m = measuresOf(await summaryFromLog(from(['time="…" level=info msg="{ not json"', ...lines, 'trailing text'])));
    expect(m?.p95Ms).toBe(612.5);
    expect(m?.errorRate).toBeCloseTo(0.02, 3);
    expect(m?.requestsPerSecond).toBe(850);
    expect(m?.requests).toBe(25_500);
  });

  it("reads handleSummary's data shape too (values nested, one line of JSON)", async () => {
    const data = { metrics: { http_req_duration: { type: 'trend', contains: 'time', values: { 'p(95)': 123.4 } }, http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0.001, passes: 1, fails: 999 } }, http_reqs: { type: 'counter', contains: 'default', values: { count: 1000, rate: 1200 } } } };
    const m = measuresOf(await summaryFromLog(from(['some text', JSON.stringify(data)])));
    expect(m).toEqual({ p95Ms: 123.4, errorRate: 0.001, requestsPerSecond: 1200, requests: 1000 });
  });

  it('is absent from a log without one, and a block bigger than the bound is dropped', async () => {
    expect(await summaryFromLog(from(await k6Log({}, ['run', '/scripts/loadtest.js'])))).toBeUndefined();
    const huge = ['{', ...Array.from({ length: 1000 }, (_, i) => `    "k${i}": ${'1'.repeat(50)},`), '    "metrics": {}', '}'];
    expect(await summaryFromLog(from(huge), 10_000)).toBeUndefined();
  });

  it("judges each of the runbook's thresholds with the measured value beside the target", () => {
    const passing = judge({ p95Ms: 212.4, errorRate: 0.0004, requestsPerSecond: 1480.2, requests: 1 }, thresholds);
    expect(passing.every((r) => r.pass)).toBe(true);
    const failing = judge({ p95Ms: 612.5, errorRate: 0.025, requestsPerSecond: 850, requests: 1 }, thresholds);
    expect(failing).toEqual([
      { name: 'P95 latency (http_req_duration)', target: '< 500 ms', measured: '612.5 ms', pass: false },
      { name: 'Error rate (http_req_failed)', target: '< 1 %', measured: '2.5 %', pass: false },
      { name: 'Throughput (http_reqs)', target: '> 1,000 req/s', measured: '850 req/s', pass: false },
    ]);
    // On the line: a threshold is strict.
    expect(judge({ p95Ms: 500, errorRate: 0.01, requestsPerSecond: 1000, requests: 1 }, thresholds).map((r) => r.pass)).toEqual([false, false, false]);
    // A metric missing from the summary fails its threshold and says so.
    expect(judge({ p95Ms: undefined, errorRate: 0, requestsPerSecond: 2000, requests: 1 }, thresholds)[0]).toMatchObject({ measured: 'not in the summary', pass: false });
  });
});
