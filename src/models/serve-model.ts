// Which model a Serve application serves, and redeploying it with another: through Serve's
// declarative REST API (PUT the whole config with the one env var changed) or a Ray Jobs
// submission (the configured entrypoint, the model as env), then waiting until the application
// is RUNNING and Serve's /v1/models lists the model.
import type { Config } from '../config/schema.js';
import { NotFoundError, UnreachableError, UsageError } from '../core/errors.js';
import { type RayDashboard, type ServeAppConfig, type ServeApplicationsResponse, type ServeDeployConfig, declarativeConfig } from '../ray/dashboard.js';

type RayConfig = Config['ray'];

export interface ServeView {
  /** The declarative config as Serve holds it now (what a rollback PUTs back). */
  config: ServeDeployConfig;
  status: string;
  message: string;
  /** The model the application's env names, if it names one. */
  model: string | undefined;
}

function appOf(config: ServeDeployConfig, name: string): ServeAppConfig {
  const app = config.applications.find((a) => a.name === name);
  if (!app) throw new NotFoundError(`Ray Serve has no application "${name}" (it has: ${config.applications.map((a) => a.name).join(', ') || 'none'}). Set ray.serveApplication.`);
  return app;
}

export function serveView(state: ServeApplicationsResponse, ray: RayConfig): ServeView {
  // A PUT replaces every application; one Serve can't echo back (deployed with serve.run, not
  // a config) would be deleted by it.
  const imperative = Object.values(state.applications).filter((a) => !a.deployed_app_config).map((a) => a.name);
  if (ray.redeploy === 'serve-api' && imperative.length > 0) {
    throw new UsageError(`Ray Serve application${imperative.length === 1 ? '' : 's'} ${imperative.join(', ')} ${imperative.length === 1 ? 'was' : 'were'} not deployed from a config, so a PUT of the declarative config would remove ${imperative.length === 1 ? 'it' : 'them'}. Redeploy through a Ray job instead (ray.redeploy: jobs).`);
  }
  const config = declarativeConfig(state);
  const app = appOf(config, ray.serveApplication);
  const live = state.applications[ray.serveApplication];
  return { config, status: live?.status ?? 'NOT_STARTED', message: live?.message ?? '', model: app.runtime_env?.env_vars?.[ray.serveModelEnv] };
}

/** The same config with the application's model env var set to `model`. */
export function withModel(config: ServeDeployConfig, ray: RayConfig, model: string): ServeDeployConfig {
  const next = structuredClone(config);
  const app = appOf(next, ray.serveApplication);
  app.runtime_env = { ...app.runtime_env, env_vars: { ...app.runtime_env?.env_vars, [ray.serveModelEnv]: model } };
  return next;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RedeployOptions {
  signal: AbortSignal;
  timeoutMs: number;
  pollMs?: number;
  progress(line: string): Promise<void>;
}

/** Asks Ray to serve `model`: a PUT of `config` with it, or a Jobs submission, as configured. */
export async function redeploy(dashboard: RayDashboard, ray: RayConfig, config: ServeDeployConfig, model: string, opts: RedeployOptions): Promise<void> {
  if (ray.redeploy === 'serve-api') {
    await dashboard.putApplications(withModel(config, ray, model), opts.signal);
    return;
  }
  const { submission_id: id } = await dashboard.submitJob(
    { entrypoint: ray.redeployEntrypoint, runtime_env: { env_vars: { [ray.serveModelEnv]: model } }, metadata: { 'vlinders.io/model': model, 'vlinders.io/by': 'vlinders-ops' } },
    opts.signal,
  );
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const job = await dashboard.getJob(id, opts.signal);
    if (job.status !== last) await opts.progress(`Ray job ${id}: ${job.status}`);
    last = job.status;
    if (job.status === 'SUCCEEDED') return;
    if (job.status === 'FAILED' || job.status === 'STOPPED') throw new UnreachableError(`Ray job ${id} ${job.status}: ${job.message ?? 'no message'}`);
    if (Date.now() >= deadline || opts.signal.aborted) throw new UnreachableError(`Ray job ${id} is still ${job.status} after ${Math.round(opts.timeoutMs / 1000)} s.`);
    await sleep(opts.pollMs ?? 500);
  }
}

/** Waits until the application is RUNNING with `model` and /v1/models lists it. */
export async function waitServing(dashboard: RayDashboard, ray: RayConfig, model: string, opts: RedeployOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const view = serveView(await dashboard.getApplications(opts.signal), ray);
    const listed = view.status === 'RUNNING' && view.model === model ? (await dashboard.listModels(opts.signal)).data.map((m) => m.id) : [];
    const line = `Serve application ${ray.serveApplication}: ${view.status}${view.status === 'RUNNING' && view.model === model ? `; /v1/models lists ${listed.join(', ') || 'nothing'}` : ''}`;
    if (line !== last) await opts.progress(line);
    last = line;
    if (view.status === 'DEPLOY_FAILED' || view.status === 'UNHEALTHY') throw new UnreachableError(`Serve application ${ray.serveApplication} is ${view.status}: ${view.message.split('\n').slice(0, 2).join(' ')}`);
    if (listed.includes(model)) return;
    if (Date.now() >= deadline || opts.signal.aborted) {
      throw new UnreachableError(`After ${Math.round(opts.timeoutMs / 1000)} s Serve application ${ray.serveApplication} is ${view.status}${view.status === 'RUNNING' ? ` and /v1/models lists ${listed.join(', ') || 'nothing'}, not ${model}` : ''}.`);
    }
    await sleep(opts.pollMs ?? 500);
  }
}
