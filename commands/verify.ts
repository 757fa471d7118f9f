import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { worstStatus, type ReportStatus } from '../src/core/report.js';
import { smokeTest } from '../src/platform-api/smoke.js';
import { phaseArg } from '../src/preflight/phase.js';
import { checklistReport, checksFor, countLine, outcomeLines, overall, runChecks, type TitledResults } from '../src/preflight/run.js';
import { clusterHealth, serviceEndpoints } from '../src/verify/health.js';
import { PHASE_CHECKS } from '../src/verify/phase-checks.js';

export default defineCommand({
  name: 'verify',
  summary: 'Post-deployment verification: health, then smoke tests against the platform API with latencies; --phase N checks a deploy phase is complete',
  usage: 'verify [--phase N] [--cluster NAME]',
  args: z.object({ phase: phaseArg }),
  role: 'operator',
  risk: 'read',
  examples: ['verify', 'verify --phase 3'],
  run: async (ctx, { phase }) => {
    const kube = ctx.services.kube();
    const checkCtx = { kube, config: ctx.config, signal: ctx.signal, now: new Date() };
    const timeoutMs = ctx.config.platform.timeoutSeconds * 1000;
    const cluster = ctx.services.clusterName ? ` · ${ctx.services.clusterName}` : '';
    if (phase !== undefined) {
      await ctx.progress(`Checking that deploy phase ${phase} is complete…`);
      const outcomes = await runChecks(checksFor(PHASE_CHECKS, phase), checkCtx, timeoutMs, (done, total) => ctx.progress(`${done}/${total} conditions checked`));
      return checklistReport(`verify phase ${phase}${cluster}`, outcomes);
    }

    await ctx.progress('Health: pods, Service endpoints, PVCs, GPU nodes…');
    // The cluster survey pages every pod: it gets the kube client's own deadline, not the per-check one.
    const health = await runChecks([clusterHealth, serviceEndpoints], checkCtx, Math.max(timeoutMs, 120_000));
    const steps = await smokeTest(ctx.config, { signal: ctx.signal, progress: ctx.progress });
    const smoke: TitledResults[] = steps.map((s) => ({ check: { title: s.name }, results: [s.result] }));
    const status: ReportStatus = worstStatus([overall(health), overall(smoke)]);
    return {
      title: `verify${cluster}`,
      status,
      summary: `Health: ${countLine(health)}. Smoke tests: ${countLine(smoke)}.`,
      sections: [
        { title: 'Health', lines: outcomeLines(health) },
        { title: 'Smoke tests', lines: outcomeLines(smoke) },
      ],
    };
  },
});
