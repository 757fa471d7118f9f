// model update through the engine, against the cluster emulator (download and verify Jobs on a
// models PVC backed by a real directory, the real sha256sum) and the Ray dashboard stub: the
// success path, and a failure at every step leaving the ConfigMap and Serve config as they were.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USERS } from '../fixtures/world.js';
import { I, SEEDED_MODEL, configMapOf, refusedUrl, reportText, settledLeftovers, asReport, opsWorlds, type OpsWorld } from './ops-world.js';
import { plainMentions } from '../../src/core/mention.js';

const NEW = 'Qwen/Qwen2.5-7B-Instruct';
const world = opsWorlds();

/** What must hold after any failed update: ConfigMap and Serve exactly as before, no Jobs left. */
async function expectUntouched(w: OpsWorld, before: { cm: unknown; serve: unknown }) {
  expect((configMapOf(w.cluster)?.data as Record<string, string>).model).toBe(SEEDED_MODEL);
  expect(configMapOf(w.cluster)?.data).toEqual(before.cm);
  expect(w.stub.appConfig('vlinders-llm')).toEqual(before.serve);
  expect(w.stub.appStatus('vlinders-llm')).toBe('RUNNING');
  expect(w.stub.servedModels()).toEqual([SEEDED_MODEL]);
  expect(await settledLeftovers(w.cluster)).toEqual([]);
  // The new model's files are gone from the PVC; the served model's are where they were.
  expect(existsSync(join(w.cluster.world.models.dir, 'Qwen', 'Qwen2.5-7B-Instruct'))).toBe(false);
  expect(existsSync(join(w.cluster.world.models.dir, 'meta-llama', 'Llama-3.1-8B-Instruct', 'SHA256SUMS'))).toBe(true);
}

const snapshot = (w: OpsWorld) => ({ cm: structuredClone(configMapOf(w.cluster)?.data), serve: w.stub.appConfig('vlinders-llm') });

describe('model update', () => {
  it('plans with the current and the new model, then downloads, verifies, patches, redeploys and ends serving it', async () => {
    const w = await world();
    const plan = await w.plan(`model update ${NEW} --revision a09a3545`);
    expect(plan.kind).toBe('confirm');
    const planText = JSON.stringify(plan.kind === 'confirm' ? plan.plan : plan);
    expect(planText).toContain(`${SEEDED_MODEL} → ${NEW}`);
    expect(planText).toContain(`${NEW}@a09a3545`);
    expect(planText).toContain('vlinders-models:/models/Qwen/Qwen2.5-7B-Instruct');

    const report = asReport(await w.approveAndRun(`model update ${NEW} --revision a09a3545`));
    expect(report.status, reportText(report)).toBe('ok');
    expect((configMapOf(w.cluster)?.data as Record<string, string>).model).toBe(NEW);
    expect(w.stub.appConfig('vlinders-llm')?.runtime_env?.env_vars?.MODEL_ID).toBe(NEW);
    expect(w.stub.appStatus('vlinders-llm')).toBe('RUNNING');
    expect(w.stub.servedModels()).toEqual([NEW]);
    // The files are on the PVC, and their manifest is the real sha256sum's.
    const dir = join(w.cluster.world.models.dir, 'Qwen', 'Qwen2.5-7B-Instruct');
    expect(readFileSync(join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}config\.json$/m);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toContain('a09a3545');
    // Every step was reported in the thread, in order.
    const steps = w.progress.filter((l) => l.startsWith('✅'));
    expect(steps.map((l) => l.split(':')[0])).toEqual(['✅ download', '✅ verify checksums', '✅ patch ConfigMap', '✅ redeploy Ray Serve', '✅ wait until serving']);
    expect(w.progress.join('\n')).toContain('3 files of Qwen/Qwen2.5-7B-Instruct match SHA256SUMS');
    expect(w.progress.join('\n')).toContain(`/v1/models lists ${NEW}`);
    // The PUT kept everything else of the Serve config.
    const put = w.stub.puts.at(-1) as { applications: Array<{ deployments: unknown; import_path: string }> };
    expect(put.applications[0]?.import_path).toBe('vlinders.serve.vllm:app');
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('redeploys through a Ray Jobs submission when configured', async () => {
    const w = await world({ tweak: (c) => void (c.ray.redeploy = 'jobs') });
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status, reportText(report)).toBe('ok');
    expect(w.stub.puts).toHaveLength(0);
    const [job] = [...w.stub.jobs.values()];
    expect(job?.entrypoint).toBe('serve deploy /home/ray/serve/vlinders-llm.yaml');
    expect(job?.runtime_env.env_vars).toEqual({ MODEL_ID: NEW });
    expect(job?.status).toBe('SUCCEEDED');
    expect(w.stub.servedModels()).toEqual([NEW]);
  });

  it('in jobs mode a failed deploy is rolled back by a Ray job with the previous model', async () => {
    const w = await world({ tweak: (c) => void (c.ray.redeploy = 'jobs') });
    const before = snapshot(w);
    w.stub.switches.failModel = NEW;
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('DEPLOY_FAILED');
    expect([...w.stub.jobs.values()].map((j) => j.runtime_env.env_vars?.MODEL_ID)).toEqual([NEW, SEEDED_MODEL]);
    expect(reportText(report)).toContain(`vlinders-llm serves ${SEEDED_MODEL} again`);
    await expectUntouched(w, before);
  });

  it('a failed download changes nothing, says which step failed, and leaves no Job', async () => {
    const w = await world({ world: { models: { failDownload: true } } });
    const before = snapshot(w);
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 1/5 (download) failed');
    expect(report.summary).toContain('GatedRepoError: 401');
    expect(report.summary).toContain('Nothing had been changed yet');
    expect(reportText(report)).toContain('Removed the downloaded files of Qwen/Qwen2.5-7B-Instruct from vlinders-models:/models/Qwen/Qwen2.5-7B-Instruct');
    expect(w.stub.puts).toHaveLength(0);
    await expectUntouched(w, before);
  });

  it('a failed update keeps the files when another update made that model current meanwhile', async () => {
    const w = await world({ world: { models: { failDownload: true } } });
    const steps: string[] = [];
    const unwatch = w.cluster.kube.watch((e) => void (e.type === 'ADDED' && e.object.kind === 'Job' && steps.push(e.object.metadata.labels?.['vlinders.io/runbook-step'] ?? '')));
    w.onJob('model-download', () => {
      const cm = configMapOf(w.cluster);
      if (cm) w.cluster.kube.replace({ ...cm, data: { ...(cm.data as object), model: NEW } });
    });
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    unwatch();
    expect(report.status).toBe('fail');
    expect(reportText(report)).toContain(`Kept the files of ${NEW} on vlinders-models:/models/Qwen/Qwen2.5-7B-Instruct: the ConfigMap or Ray Serve names that model now.`);
    expect(steps).toEqual(['model-download']);
  });

  it('without permission to create Jobs (403) it fails at the download, naming the missing grant, and changes nothing', async () => {
    const w = await world();
    const before = snapshot(w);
    w.cluster.kube.failNext({ method: 'POST', path: /\/jobs$/ }, { status: 403 });
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain("Step 1/5 (download) failed: The bot's ServiceAccount may not create jobs.batch in namespace vlinders-inference (403 Forbidden)");
    await expectUntouched(w, before);
  });

  it('a checksum mismatch stops before the ConfigMap, naming the file', async () => {
    const w = await world({ world: { models: { corruptDownload: true } } });
    const before = snapshot(w);
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 2/5 (verify checksums) failed');
    expect(report.summary).toContain('model-00001-of-00001.safetensors: FAILED');
    expect(w.stub.puts).toHaveLength(0);
    await expectUntouched(w, before);
  });

  it('a model entry changed during the download fails the guarded patch (422) and changes nothing else', async () => {
    const w = await world();
    const before = snapshot(w);
    const OTHER = 'google/gemma-2-9b-it';
    w.onJob('model-download', () => {
      const cm = configMapOf(w.cluster);
      if (cm) w.cluster.kube.replace({ ...cm, data: { ...(cm.data as object), model: OTHER } });
    });
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 3/5 (patch ConfigMap) failed');
    expect(report.summary).toContain('422');
    expect(w.stub.puts).toHaveLength(0);
    // The other person's edit stands; Serve, the PVC and the Jobs are as before.
    expect((configMapOf(w.cluster)?.data as Record<string, string>).model).toBe(OTHER);
    expect(w.stub.appConfig('vlinders-llm')).toEqual(before.serve);
    expect(existsSync(join(w.cluster.world.models.dir, 'Qwen', 'Qwen2.5-7B-Instruct'))).toBe(false);
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  });

  it('another setting changed during the download (gpu-memory) is kept, and the update goes through', async () => {
    const w = await world();
    w.onJob('model-download', () => {
      const cm = configMapOf(w.cluster);
      if (cm) w.cluster.kube.replace({ ...cm, data: { ...(cm.data as object), gpu_memory_utilization: '0.85' } });
    });
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status, reportText(report)).toBe('ok');
    expect(configMapOf(w.cluster)?.data).toMatchObject({ model: NEW, gpu_memory_utilization: '0.85' });
  });

  it('a failed redeploy (PUT answers 500) restores the ConfigMap and PUTs the previous Serve config back', async () => {
    const w = await world();
    const before = snapshot(w);
    const seen = w.stub.appConfig('vlinders-llm');
    w.stub.switches.failPuts = 1;
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 4/5 (redeploy Ray Serve) failed');
    expect(report.summary).toContain('answered 500');
    const text = reportText(report);
    expect(text).toContain(`Restored model in ConfigMap ${I}/vlinders-config to ${SEEDED_MODEL}`);
    expect(text).toContain(`Redeployed the previous Ray Serve config: vlinders-llm serves ${SEEDED_MODEL} again`);
    expect(w.stub.puts).toHaveLength(2);
    expect((w.stub.puts[1] as { applications: unknown[] }).applications).toEqual([seen]);
    await expectUntouched(w, before);
  });

  it('a deploy that ends DEPLOY_FAILED is rolled back: ConfigMap and Serve as they were', async () => {
    const w = await world();
    const before = snapshot(w);
    w.stub.switches.failModel = NEW;
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 5/5 (wait until serving) failed');
    expect(report.summary).toContain('DEPLOY_FAILED');
    expect(reportText(report)).toContain('Restored model');
    expect(reportText(report)).toContain('Redeployed the previous Ray Serve config');
    await expectUntouched(w, before);
  });

  it('a model RUNNING but never listed by /v1/models times out and is rolled back', async () => {
    const w = await world();
    const before = snapshot(w);
    w.stub.switches.unlistedModel = NEW;
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 5/5 (wait until serving) failed');
    expect(report.summary).toContain(`/v1/models lists nothing, not ${NEW}`);
    await expectUntouched(w, before);
  }, 20_000);

  it('a download that outlives models.jobTimeoutSeconds is stopped, deleted and cleaned up', async () => {
    const w = await world({ world: { jobRunMs: 30_000 }, tweak: (c) => void (c.models.jobTimeoutSeconds = 5) });
    const before = snapshot(w);
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    // Kubernetes stops it at its activeDeadlineSeconds; the bot reports that rather than racing it.
    expect(report.summary).toMatch(/Step 1\/5 \(download\) failed: Job vlinders-inference\/vlinders-model-fetch-\w+ did not finish within 5 s: Kubernetes stopped it \(DeadlineExceeded\)/);
    // The cleanup Job of this world runs as long and times out too: the files stay, and the report says so.
    expect(reportText(report)).toMatch(/Could not remove the downloaded files of Qwen\/Qwen2.5-7B-Instruct from vlinders-models:\/models\/Qwen\/Qwen2.5-7B-Instruct: Job [\w/-]+ did not finish within 5 s: Kubernetes stopped it/);
    expect(configMapOf(w.cluster)?.data).toEqual(before.cm);
    expect(w.stub.puts).toHaveLength(0);
    expect(await settledLeftovers(w.cluster)).toEqual([]);
  }, 30_000);

  it('one change of what Serve serves at a time: a second model update or a gpu-memory change is refused while one runs, naming it', async () => {
    const w = await world({ world: { jobRunMs: 1500 } });
    const busy = /A model update of Ray Serve application vlinders-llm on cluster test is already running: started by @U0ADMIN\w* at [\d-]+ [\d:]+ UTC \(0 min ago\), to Qwen\/Qwen2\.5-7B-Instruct\. Wait for it to finish\./;
    const refusedPlans: string[] = [];
    w.onJob('model-download', () => {
      void Promise.all([w.plan('model update mistralai/Mistral-7B-Instruct-v0.3'), w.plan('gpu-memory 0.85')]).then((outs) => refusedPlans.push(...outs.map((o) => plainMentions(JSON.stringify(o)))));
    });
    const first = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(first.status, reportText(first)).toBe('ok');
    expect(refusedPlans).toHaveLength(2);
    for (const refused of refusedPlans) expect(refused).toMatch(busy);

    // Planned before, approved while another runs: the run refuses too, and changes nothing.
    const again = await world({ world: { jobRunMs: 1500 } });
    let running: ReturnType<typeof again.approveAndRun> | undefined;
    const second = await again.approveAndRun('gpu-memory 0.85', USERS.admin, async () => {
      running = again.approveAndRun(`model update ${NEW}`);
      await expect.poll(() => again.cluster.kube.list('batch/v1', 'Job', I).length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
    });
    expect(plainMentions(JSON.stringify(second))).toMatch(busy);
    expect(asReport(await (running as NonNullable<typeof running>)).status).toBe('ok');
    expect(configMapOf(again.cluster)?.data).toMatchObject({ model: NEW, gpu_memory_utilization: '0.9' });
    // Free again once it finished.
    expect(asReport(await again.approveAndRun('gpu-memory 0.85')).status).toBe('ok');
  });

  it('an abort during the download (the bot shutting down) stops, deletes the Job and changes nothing', async () => {
    const w = await world({ world: { jobRunMs: 2000 } });
    const before = snapshot(w);
    w.onJob('model-download', () => w.abort());
    const report = asReport(await w.approveAndRun(`model update ${NEW}`));
    expect(report.status).toBe('fail');
    expect(report.summary).toContain('Step 1/5 (download) failed: Stopped while waiting for Job');
    await expectUntouched(w, before);
  });

  it('refuses to run when the ConfigMap or the Serve config changed after the plan', async () => {
    const w = await world();
    const cmEdit = await w.approveAndRun(`model update ${NEW}`, USERS.admin, () => {
      const cm = configMapOf(w.cluster);
      if (cm) w.cluster.kube.replace({ ...cm, data: { ...(cm.data as object), max_model_len: '4096' } });
    });
    expect(reportText(cmEdit)).toContain('changed after the plan was shown');
    const w2 = await world();
    const serveEdit = await w2.approveAndRun(`model update ${NEW}`, USERS.admin, async () => {
      const app = w2.stub.appConfig('vlinders-llm');
      if (!app) throw new Error('no app');
      await fetch(`${w2.stub.url}/api/serve/applications/`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ applications: [{ ...app, deployments: [{ name: 'VLLMDeployment', num_replicas: 2 }] }] }) });
    });
    expect(reportText(serveEdit)).toContain('The Ray Serve config changed after the plan was shown');
    expect(await settledLeftovers(w.cluster)).toEqual([]);
    expect(w.stub.puts).toHaveLength(0);
    expect(w2.stub.puts).toHaveLength(1); // only the edit made by hand
    expect(w.cluster.kube.list('batch/v1', 'Job', I)).toEqual([]);
  });

  it('refuses bad model ids and revisions, and a model already served, before anything runs', async () => {
    const w = await world();
    for (const bad of ['model update ../etc/passwd', 'model update llama', 'model update "org/name;rm -rf /"', 'model update org/name --revision "a b"', 'model update org/name --revision ../x']) {
      const out = await w.plan(bad);
      expect(out.kind, bad).toBe('error');
      expect(out.kind === 'error' && out.message, bad).toMatch(/is not a (model id|revision)/);
    }
    const same = await w.plan(`model update ${SEEDED_MODEL}`);
    expect(same.kind === 'error' && same.message).toContain('already the model');
    expect(w.cluster.kube.list('batch/v1', 'Job', I)).toEqual([]);
  });

  it('plans with a warning when Serve is not RUNNING now, and refuses nothing for it', async () => {
    const w = await world();
    w.stub.setAppStatus('vlinders-llm', 'UNHEALTHY', 'The deployment VLLMDeployment is UNHEALTHY: replica health check failed');
    const plan = await w.plan(`model update ${SEEDED_MODEL}`);
    expect(plan.kind).toBe('confirm');
    const text = JSON.stringify(plan.kind === 'confirm' ? plan.plan : plan);
    expect(text).toContain('vlinders-llm is UNHEALTHY now: The deployment VLLMDeployment is UNHEALTHY');
    expect(plan.kind === 'confirm' && plan.plan.status).toBe('warn');
  });

  it('an operator is refused: model update needs admin', async () => {
    const w = await world();
    const out = await w.plan(`model update ${NEW}`, USERS.operator);
    expect(out.kind === 'error' && out.message).toContain('needs the admin role');
  });

  it('an unreachable dashboard is a clear failure at plan time', async () => {
    const url = await refusedUrl();
    const w = await world({ tweak: (c) => void (c.ray.dashboardUrl = url) });
    const out = await w.plan(`model update ${NEW}`);
    expect(out.kind).toBe('report');
    const text = reportText(out.kind === 'report' ? out.report : '');
    expect(text).toContain(`Could not reach the Ray dashboard (GET ${url}/api/serve/applications/)`);
    expect(text).toContain('ECONNREFUSED');
  });

  it('never shows a secret: the hub token in a failing download log, tokens in the Serve env', async () => {
    const TOKEN = 'hf_QmVyeVNlY3JldFRva2VuMTIzNDU2Nzg5MA';
    const DB_PASSWORD = 'S3cr3t-Pg-Passw0rd';
    const w = await world({
      world: { models: { failDownload: true } },
      dashboard: { applications: [{ name: 'vlinders-llm', import_path: 'vlinders.serve.vllm:app', route_prefix: '/', runtime_env: { env_vars: { MODEL_ID: SEEDED_MODEL, HUGGING_FACE_HUB_TOKEN: TOKEN, DATABASE_URL: `postgres://vlinders:${DB_PASSWORD}@postgres:5432/vlinders` } }, deployments: [{ name: 'VLLMDeployment' }] }] },
      tweak: (c) => void (c.models.tokenSecret = { name: 'hf-secret', key: 'token' }),
    });
    w.cluster.kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hf-secret', namespace: I }, type: 'Opaque', data: { token: Buffer.from(TOKEN).toString('base64') } });
    const failed = await w.approveAndRun(`model update ${NEW}`);
    expect(reportText(failed)).toContain('Request headers');
    // Success with the secret-laden Serve env too.
    const w2 = await world({ dashboard: { applications: [{ name: 'vlinders-llm', import_path: 'vlinders.serve.vllm:app', runtime_env: { env_vars: { MODEL_ID: SEEDED_MODEL, HUGGING_FACE_HUB_TOKEN: TOKEN } }, deployments: [{ name: 'VLLMDeployment' }] }] } });
    w2.stub.switches.failModel = NEW;
    const plan = await w2.plan(`model update ${NEW}`);
    const rolledBack = await w2.approveAndRun(`model update ${NEW}`);
    for (const text of [reportText(failed), reportText(rolledBack), JSON.stringify(plan), w.progress.join('\n'), w2.progress.join('\n'), w.log.text(), w2.log.text()]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(DB_PASSWORD);
      expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
    }
  });
});

describe('the models volume', () => {
  it('holds the seeded model with a manifest the real sha256sum accepts', async () => {
    const w = await world();
    const dir = join(w.cluster.world.models.dir, 'meta-llama', 'Llama-3.1-8B-Instruct');
    expect(existsSync(join(dir, 'SHA256SUMS'))).toBe(true);
    expect(w.cluster.kube.get('v1', 'PersistentVolumeClaim', I, 'vlinders-models')?.status).toMatchObject({ phase: 'Bound' });
  });
});
