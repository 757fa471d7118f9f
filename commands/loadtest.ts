import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import type { Report } from '../src/core/report.js';
import { runJob } from '../src/kube/jobs.js';
import { assertScript, checkLoad, k6Job } from '../src/loadtest/k6-job.js';
import { judge, measuresOf, summaryFromLog } from '../src/loadtest/k6-summary.js';

const USAGE = 'loadtest [--vus N] [--duration D] [--cluster NAME]';
/** Beyond the test's own duration: image pull, start-up, k6's 30 s graceful stop. */
const GRACE_SECONDS = 300;

const args = z.object({
  vus: z.coerce.number().int().min(1, '--vus is at least 1').optional(),
  duration: z.string().optional(),
});

export default defineCommand({
  name: 'loadtest',
  summary: "Run the runbook's k6 performance test as a Job and judge P95 latency, error rate and throughput",
  usage: USAGE,
  args,
  role: 'operator',
  risk: 'change',
  examples: ['loadtest', 'loadtest --vus 200 --duration 10m'],
  plan: async (ctx, input) => {
    const lt = ctx.config.loadtest;
    const vus = input.vus ?? lt.vus;
    const duration = input.duration ?? lt.duration;
    checkLoad(lt, vus, duration);
    const namespace = namespaceOf(ctx.config);
    await assertScript(ctx.services.kube(), namespace, lt);
    const t = lt.thresholds;
    return {
      title: `loadtest: ${vus} VUs for ${duration}`,
      status: 'info',
      summary: `Runs k6 (${lt.image}) as a Job in ${namespace} against ${lt.targetUrl}: ${vus} virtual users for ${duration}. This is real load on the platform.`,
      sections: [
        {
          fields: [
            { label: 'Script', value: `ConfigMap ${lt.scriptConfigMap}, key ${lt.scriptKey}` },
            { label: 'Thresholds', value: `P95 < ${t.p95Ms} ms · errors < ${t.errorRatePercent} % · > ${t.minRequestsPerSecond} req/s` },
          ],
        },
      ],
    };
  },
  run: async (ctx, input) => {
    const lt = ctx.config.loadtest;
    const vus = input.vus ?? lt.vus;
    const duration = input.duration ?? lt.duration;
    const seconds = checkLoad(lt, vus, duration);
    const namespace = namespaceOf(ctx.config);
    const kube = ctx.services.kube();
    await assertScript(kube, namespace, lt); // again: it may have gone since the plan
    const title = `loadtest: ${vus} VUs for ${duration}`;
    const job = k6Job(lt, vus, duration, seconds + GRACE_SECONDS);
    await ctx.progress(`Starting k6 Job ${namespace}/${job.metadata?.name}: ${vus} VUs for ${duration} against ${lt.targetUrl}…`);
    const run = await runJob(kube, namespace, job, { timeoutMs: (seconds + GRACE_SECONDS) * 1000, signal: ctx.signal, progress: (l) => ctx.progress(l), logTail: true }, (lines) => summaryFromLog(lines));
    const measures = measuresOf(run.output);
    const cleaned = run.leftover ? `⚠️ The bot ${run.leftover}; its TTL removes it within the hour.` : 'The Job was deleted.';
    if (!measures) {
      return {
        title,
        status: 'fail',
        summary: run.succeeded
          ? `k6 finished but its log holds no JSON summary: does the script's handleSummary replace stdout? ${cleaned}`
          : `k6 failed: ${run.message}. Its log holds no summary. ${cleaned}`,
      } satisfies Report;
    }
    const results = judge(measures, lt.thresholds);
    const passed = results.filter((r) => r.pass).length;
    return {
      title,
      status: passed === results.length ? 'ok' : 'fail',
      summary: `${passed}/${results.length} thresholds met over ${measures.requests ?? '?'} requests${run.succeeded ? '' : ` (k6 exited with an error: ${run.message})`}. ${cleaned}`,
      sections: [{ header: ['threshold', 'target', 'measured', 'result'], rows: results.map((r) => [r.name, r.target, r.measured, r.pass ? '✅ pass' : '❌ FAIL']) }],
    } satisfies Report;
  },
});

/** The Job runs only in a Vlinders namespace: the bot's Roles cover those and nothing else. */
function namespaceOf(config: { namespaces: { platform: string } & Record<string, string>; loadtest: { namespace?: string } }): string {
  const allowed = Object.values(config.namespaces);
  const ns = config.loadtest.namespace ?? config.namespaces.platform;
  if (!allowed.includes(ns)) throw new UsageError(`loadtest.namespace ${ns} is not one of the Vlinders namespaces (${allowed.join(', ')}).`);
  return ns;
}
