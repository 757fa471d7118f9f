import { z } from 'zod';
import { rangeCharts } from '../src/charts/index.js';
import { promDuration } from '../src/config/schema.js';
import { defineCommand } from '../src/core/command.js';
import { UsageError } from '../src/core/errors.js';
import { tallyLine, tallyProblems } from '../src/core/report.js';
import { prometheusFrom } from '../src/prometheus/client.js';
import { durationSeconds } from '../src/slo/promql.js';
import { sloChartSpecs } from '../src/slo/charts.js';
import { readSlo, sloReport } from '../src/slo/slo.js';

const USAGE = 'slo [model] [--window 1h] [--cluster NAME]';
const MAX_WINDOW_SECONDS = 31 * 86_400;

export default defineCommand({
  name: 'slo',
  summary: "Each served model's service level from vLLM's metrics: P50/P95 TTFT, TPOT, end-to-end and queue time, queue, KV cache, preemptions, tokens/s, API errors, judged against the SLOs",
  usage: USAGE,
  args: z.object({
    // vLLM's model_name is the served model id, e.g. meta-llama/Llama-3.1-8B-Instruct.
    model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/, 'expected a served model name like meta-llama/Llama-3.1-8B-Instruct').optional(),
    window: promDuration.optional(),
  }),
  positional: ['model'],
  role: 'viewer',
  risk: 'read',
  examples: ['slo', 'slo meta-llama/Llama-3.1-8B-Instruct --window 6h'],
  run: async (ctx, { model, window }) => {
    const { config, signal } = ctx;
    const prometheus = prometheusFrom(config);
    if (!prometheus) throw new UsageError('prometheus.url is not configured: slo reads vLLM and the API from Prometheus.', USAGE);
    const over = window ?? config.slo.window;
    // Prometheus keeps 15 days by default; a longer window reads everything it holds, for nothing.
    if ((durationSeconds(over) ?? 0) > MAX_WINDOW_SECONDS) throw new UsageError(`--window ${over} is longer than 31 days.`, USAGE);
    await ctx.progress(`Asking Prometheus for ${model ?? 'every served model'} over ${over}…`);
    const [reading, drawn] = await Promise.all([readSlo(prometheus, config, { window: over, model, signal }), rangeCharts(prometheus, sloChartSpecs(config, Date.now(), { window: over, model }), signal)]);
    // Every query failing is Prometheus being unreachable: one clear line, not a table of errors.
    if (reading.unread.length && reading.models.length === 0 && reading.errorRatePercent === undefined && reading.apiP95Seconds === undefined) {
      return { title: 'slo', status: 'fail', summary: `Prometheus could not be read: ${reading.unread[0]?.replace(/^\w+: /, '')}` };
    }
    const { status, sections, verdicts } = sloReport(reading, config);
    const marked = tallyLine(tallyProblems(sections));
    const notMet = verdicts.filter((v) => v.status === 'fail');
    const apiRead = reading.errorRatePercent !== undefined || reading.apiP95Seconds !== undefined;
    // No model read is no model within its SLO: say what was read, never "all within SLO".
    const summary =
      model && reading.models.length === 0
        ? `No vLLM series for model ${model} over ${over}.`
        : reading.models.length === 0
          ? apiRead
            ? `No vLLM series over ${over}: no model is judged; the API is, below.`
            : `Nothing was read over ${over}: ${reading.unread.length ? 'some queries failed (below) and the others found' : 'Prometheus has'} no vLLM or API series, so no SLO is judged.`
          : `${verdicts.length} model${verdicts.length === 1 ? '' : 's'} over ${over}: ${notMet.length ? `${notMet.length} miss${notMet.length === 1 ? 'es' : ''} an SLO` : 'all within SLO'}${marked ? ` · ${marked}` : ''}.`;
    // After the tally: a chart not drawn is a picture missing, not a figure.
    if (drawn.lines.length) sections.push({ title: 'Charts', lines: drawn.lines });
    return { title: `slo${model ? ` ${model}` : ''} · ${over}`, status, summary, sections, ...(drawn.charts.length ? { charts: drawn.charts } : {}) };
  },
});
