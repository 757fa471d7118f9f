// loadtest through the engine against the cluster emulator: the k6 Job runs, its pod prints
// k6's summary with the numbers set here, and the report judges the runbook's thresholds.
import { describe, expect, it } from 'vitest';
import { USERS } from '../fixtures/world.js';
import { P, reportText, settledLeftovers, asReport, opsWorlds } from '../models/ops-world.js';

const world = opsWorlds();

describe('loadtest', () => {
  it('runs k6 as a Job with the asked load, reports every threshold passing, and deletes the Job', async () => {
    // Long enough for a poll to see the pod Running.
    const w = await world({ world: { jobRunMs: 1500 } });
    const created: unknown[] = [];
    const unwatch = w.cluster.kube.watch((e) => {
      if (e.type === 'ADDED' && e.object.kind === 'Job') created.push(structuredClone(e.object));
    });
    const report = asReport(await w.approveAndRun('loadtest --vus 50 --duration 2m', USERS.operator));
    unwatch();
    expect(report.status, reportText(report)).toBe('ok');
    expect(report.summary).toContain('3/3 thresholds met over 177624 requests');
    expect(report.sections?.[0]?.rows).toEqual([
      ['P95 latency (http_req_duration)', '< 500 ms', '212.4 ms', '✅ pass'],
      ['Error rate (http_req_failed)', '< 1 %', '0.04 %', '✅ pass'],
      ['Throughput (http_reqs)', '> 1,000 req/s', '1,480.2 req/s', '✅ pass'],
    ]);
    const job = created[0] as { metadata: { namespace: string }; spec: { activeDeadlineSeconds: number; template: { spec: { containers: Array<{ image: string; args: string[]; env: unknown[] }>; volumes: unknown[] } } } };
    expect(job.metadata.namespace).toBe(P);
    expect(job.spec.activeDeadlineSeconds).toBe(120 + 300); // --duration 2m and the start-up grace
    const c = job.spec.template.spec.containers[0];
    expect(c?.image).toBe('grafana/k6:0.57.0');
    expect(c?.args).toEqual(['run', '--vus', '50', '--duration', '2m', '--summary-export', '/dev/stdout', '--no-color', '/scripts/loadtest.js']);
    expect(c?.env).toEqual([{ name: 'BASE_URL', value: 'http://kong-gateway-proxy.vlinders-platform.svc:8000' }]);
    expect(job.spec.template.spec.volumes).toEqual([{ name: 'script', configMap: { name: 'vlinders-loadtest' } }]);
    expect(w.progress.join('\n')).toMatch(/Job vlinders-loadtest-\w+: pod vlinders-loadtest-[\w-]+: Running/);
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('a summary that misses thresholds fails them, each with the measured value beside its target', async () => {
    const w = await world({ world: { k6: { p95Ms: 734.2, errorRate: 0.004, rps: 640.5, exitCode: 99 } } });
    const report = asReport(await w.approveAndRun('loadtest --duration 30s', USERS.operator));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('1/3 thresholds met');
    expect(report.summary).toContain('k6 exited with an error');
    expect(report.sections?.[0]?.rows).toEqual([
      ['P95 latency (http_req_duration)', '< 500 ms', '734.2 ms', '❌ FAIL'],
      ['Error rate (http_req_failed)', '< 1 %', '0.4 %', '✅ pass'],
      ['Throughput (http_reqs)', '> 1,000 req/s', '640.5 req/s', '❌ FAIL'],
    ]);
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('thresholds come from config', async () => {
    const w = await world({ world: { k6: { p95Ms: 734.2, rps: 640.5 } }, tweak: (c) => void Object.assign(c.loadtest.thresholds, { p95Ms: 800, minRequestsPerSecond: 500 }) });
    const report = asReport(await w.approveAndRun('loadtest --duration 30s', USERS.operator));
    expect(report.status).toBe('ok');
    expect(report.sections?.[0]?.rows?.[0]).toEqual(['P95 latency (http_req_duration)', '< 800 ms', '734.2 ms', '✅ pass']);
  });

  it('bad --vus and --duration are refused with the usage, before any Job', async () => {
    const w = await world();
    for (const [args, why] of [
      ['--vus 0', '--vus is at least 1'],
      ['--vus many', 'vus'],
      ['--vus 5000', 'above the configured maximum of 1000'],
      ['--duration 5', 'is not a duration'],
      ['--duration "5m; rm -rf /"', 'is not a duration'],
      ['--duration 2h', 'outside 1 s–3600 s'],
    ] as const) {
      const out = await w.plan(`loadtest ${args}`, USERS.operator);
      expect(out.kind, args).toBe('error');
      expect(out.kind === 'error' && out.message, args).toContain(why);
    }
    expect(w.cluster.kube.list('batch/v1', 'Job', P)).toEqual([]);
  });

  it('a viewer may not run it', async () => {
    const w = await world();
    const out = await w.plan('loadtest', USERS.viewer);
    expect(out.kind === 'error' && out.message).toContain('needs the operator role');
  });

  it('a k6 run whose log has no summary fails clearly and leaves no Job', async () => {
    const w = await world();
    // A script whose handleSummary replaced stdout: derive it by dropping the export flag the world's k6 reads.
    const unwatch = w.cluster.kube.watch((e) => {
      if (e.type === 'ADDED' && e.object.kind === 'Job') {
        const job = structuredClone(e.object) as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } } & typeof e.object;
        const c = job.spec.template.spec.containers[0];
        if (c && c.args.includes('--summary-export')) {
          c.args = c.args.filter((a) => a !== '--summary-export' && a !== '/dev/stdout');
          w.cluster.kube.replace(job);
        }
      }
    });
    const report = asReport(await w.approveAndRun('loadtest --duration 30s', USERS.operator));
    unwatch();
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('its log holds no JSON summary');
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('an abort while k6 runs stops following it and deletes the Job', async () => {
    const w = await world({ world: { jobRunMs: 3000 } });
    w.onJob('loadtest', () => w.abort());
    const report = asReport(await w.approveAndRun('loadtest --duration 30s', USERS.operator));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Stopped while waiting for Job');
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('a k6 image that cannot be pulled fails at once with the reason, and the Job is deleted', async () => {
    const w = await world({ world: { jobRunMs: 20_000 }, tweak: (c) => void (c.loadtest.image = 'grafana/k6:9.99.9') });
    // The kubelet's view of a tag that does not exist (derived from the pod the Job controller made).
    const unwatch = w.cluster.kube.watch((e) => {
      if (e.type !== 'ADDED' || e.object.kind !== 'Pod' || !e.object.metadata.labels?.['job-name']) return;
      unwatch();
      setTimeout(() => {
        const pod = w.cluster.kube.get('v1', 'Pod', P, e.object.metadata.name);
        if (!pod) return;
        const waiting = { reason: 'ImagePullBackOff', message: 'Back-off pulling image "grafana/k6:9.99.9"' };
        w.cluster.kube.replace({ ...pod, status: { ...pod.status, phase: 'Pending', containerStatuses: [{ name: 'k6', image: 'grafana/k6:9.99.9', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting } }] } });
      }, 0);
    });
    const started = Date.now();
    const report = asReport(await w.approveAndRun('loadtest --duration 30s', USERS.operator));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('its pod cannot start: ImagePullBackOff (Back-off pulling image "grafana/k6:9.99.9")');
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('keeps the results when the Job cannot be deleted (403), and says the Job is left', async () => {
    const w = await world();
    w.cluster.kube.failNext({ method: 'DELETE', path: /\/jobs\// }, { status: 403 });
    const report = asReport(await w.approveAndRun('loadtest --duration 30s', USERS.operator));
    expect(report.status).toBe('ok');
    expect(report.summary).toMatch(/3\/3 thresholds met .*⚠️ The bot could not delete Job vlinders-platform\/vlinders-loadtest-\w+: The bot's ServiceAccount may not delete jobs\.batch in namespace vlinders-platform \(403 Forbidden\)/);
    expect(w.cluster.kube.list('batch/v1', 'Job', P)).toHaveLength(1);
  });

  it('a missing script ConfigMap, or one without the script key, is refused with the fix, before any Job', async () => {
    const w = await world();
    const scriptMap = w.cluster.kube.get('v1', 'ConfigMap', P, 'vlinders-loadtest');
    if (!scriptMap) throw new Error('the world seeds the script ConfigMap');
    w.cluster.kube.remove('v1', 'ConfigMap', P, 'vlinders-loadtest');
    const missing = JSON.stringify(await w.plan('loadtest', USERS.operator));
    expect(missing).toContain("The k6 script's ConfigMap vlinders-platform/vlinders-loadtest does not exist. Create it from the runbook's k6 script (kubectl create configmap vlinders-loadtest -n vlinders-platform --from-file=loadtest.js)");
    w.cluster.kube.create({ ...scriptMap, metadata: { name: 'vlinders-loadtest', namespace: P }, data: { 'other.js': 'x' } });
    expect(JSON.stringify(await w.plan('loadtest', USERS.operator))).toContain('ConfigMap vlinders-platform/vlinders-loadtest has no k6 script under key loadtest.js');
    // Gone between the plan and the approval: the run refuses too.
    const keyless = w.cluster.kube.get('v1', 'ConfigMap', P, 'vlinders-loadtest');
    w.cluster.kube.replace({ ...keyless, data: scriptMap.data } as typeof scriptMap);
    const refused = await w.approveAndRun('loadtest --duration 30s', USERS.operator, () => w.cluster.kube.remove('v1', 'ConfigMap', P, 'vlinders-loadtest'));
    expect(JSON.stringify(refused)).toContain('does not exist');
    expect(w.cluster.kube.list('batch/v1', 'Job', P)).toHaveLength(0);
  });

  it('a loadtest namespace outside Vlinders is refused', async () => {
    const w = await world({ tweak: (c) => void (c.loadtest.namespace = 'default') });
    const out = await w.plan('loadtest', USERS.operator);
    expect(JSON.stringify(out)).toContain('is not one of the Vlinders namespaces');
  });
});
