// A Ray dashboard stub on 127.0.0.1 (test-only): Serve's REST API (GET/PUT
// /api/serve/applications/), the Ray Jobs API (POST /api/jobs/, GET /api/jobs/{id}) and Serve's
// OpenAI-compatible GET /v1/models, on one port. Responses start from the documented shapes in
// test/fixtures/captured/ray. A PUT replaces the declarative config: changed applications go
// DEPLOYING, then RUNNING (or DEPLOY_FAILED when a switch says so). Switches make it fail the
// way a real one does: a 500 on PUT, a failed deploy, a model list that lags.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFixture } from '../kube/world/fixtures.js';

/** An application's declarative config (Serve's ServeApplicationSchema), as PUT takes it. */
export interface StubAppConfig {
  name: string;
  import_path: string;
  route_prefix?: string | null;
  runtime_env?: { env_vars?: Record<string, string>; [key: string]: unknown };
  args?: Record<string, unknown>;
  deployments?: Array<{ name: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

export interface DashboardSwitches {
  /** The next N PUTs to /api/serve/applications/ answer 500 (the controller is unavailable). */
  failPuts: number;
  /** An application deployed to serve this model ends DEPLOY_FAILED (its replicas can't load it). */
  failModel?: string;
  /** /v1/models never lists this model (the app says RUNNING, the route doesn't serve it). */
  unlistedModel?: string;
  /** Ray Jobs submissions end FAILED. */
  failJobs: boolean;
}

export interface DashboardStubOptions {
  /** The applications running at start (default: vlinders-llm serving `model`). */
  applications?: StubAppConfig[];
  /** The model of the default application (default meta-llama/Llama-3.1-8B-Instruct). */
  model?: string;
  /** The env var in runtime_env that names an application's model (default MODEL_ID). */
  modelEnv?: string;
  /** DEPLOYING lasts this long (default 200 ms); Jobs run this long. */
  deployMs?: number;
}

type AppStatus = 'DEPLOYING' | 'DEPLOY_FAILED' | 'RUNNING' | 'UNHEALTHY';

interface App {
  config: StubAppConfig;
  status: AppStatus;
  message: string;
  deployedAt: number;
}

interface JobRecord {
  type: 'SUBMISSION';
  entrypoint: string;
  job_id: string;
  submission_id: string;
  driver_info: { id: string; node_ip_address: string; pid: string } | null;
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  message: string;
  error_type: string | null;
  start_time: number;
  end_time: number | null;
  metadata: Record<string, string>;
  runtime_env: { env_vars?: Record<string, string>; [key: string]: unknown };
}

const fixture = () => JSON.parse(readFixture('ray/serve_api_applications_GET_response_docs.json')) as Record<string, unknown> & { applications: Record<string, { deployments: Record<string, Record<string, unknown>> }> };

export function defaultServeApp(model: string, modelEnv = 'MODEL_ID'): StubAppConfig {
  return {
    name: 'vlinders-llm',
    route_prefix: '/',
    import_path: 'vlinders.serve.vllm:app',
    runtime_env: { env_vars: { [modelEnv]: model, TENSOR_PARALLELISM: '1' } },
    deployments: [{ name: 'VLLMDeployment', num_replicas: 1, ray_actor_options: { num_cpus: 8 } }],
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

export class RayDashboardStub {
  readonly switches: DashboardSwitches = { failPuts: 0, failJobs: false };
  /** Every PUT body, oldest first. */
  readonly puts: unknown[] = [];
  readonly jobs = new Map<string, JobRecord>();
  private apps = new Map<string, App>();
  private timers = new Set<NodeJS.Timeout>();
  private readonly modelEnv: string;
  private readonly deployMs: number;

  private constructor(
    private server: Server,
    readonly url: string,
    opts: DashboardStubOptions,
  ) {
    this.modelEnv = opts.modelEnv ?? 'MODEL_ID';
    this.deployMs = opts.deployMs ?? 200;
    const apps = opts.applications ?? [defaultServeApp(opts.model ?? 'meta-llama/Llama-3.1-8B-Instruct', this.modelEnv)];
    for (const config of apps) this.apps.set(config.name, { config: structuredClone(config), status: 'RUNNING', message: '', deployedAt: Date.now() / 1000 });
  }

  static async start(opts: DashboardStubOptions = {}): Promise<RayDashboardStub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stub = new RayDashboardStub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      stub.handle(req, res).catch((err: unknown) => send(res, 500, `Internal Server Error: ${(err as Error).message}`));
    });
    return stub;
  }

  /** The declarative config of an application as Serve holds it now. */
  appConfig(name: string): StubAppConfig | undefined {
    const app = this.apps.get(name);
    return app && structuredClone(app.config);
  }

  appStatus(name: string): AppStatus | undefined {
    return this.apps.get(name)?.status;
  }

  /** Puts an application in a state by hand (an UNHEALTHY replica for a diagnosis test, say). */
  setAppStatus(name: string, status: AppStatus, message = ''): void {
    const app = this.apps.get(name);
    if (!app) throw new Error(`no application ${name}`);
    Object.assign(app, { status, message });
  }

  /** The models RUNNING applications serve (what /v1/models lists). */
  servedModels(): string[] {
    return [...this.apps.values()].filter((a) => a.status === 'RUNNING').flatMap((a) => this.modelsOf(a.config)).filter((m) => m !== this.switches.unlistedModel);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private modelsOf(config: StubAppConfig): string[] {
    const fromEnv = config.runtime_env?.env_vars?.[this.modelEnv];
    // Ray Serve LLM's build_openai_app names its models in args.llm_configs[].model_loading_config.
    const llm = ((config.args?.llm_configs ?? []) as Array<{ model_loading_config?: { model_id?: string } }>).map((c) => c.model_loading_config?.model_id);
    return [fromEnv, ...llm].filter((m): m is string => typeof m === 'string');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.url).pathname;
    if (path === '/api/serve/applications/' && req.method === 'GET') return send(res, 200, this.applications());
    if (path === '/api/serve/applications/' && req.method === 'PUT') return this.put(await readJson(req), res);
    if (path === '/api/jobs/' && req.method === 'POST') return this.submit(await readJson(req), res);
    const job = /^\/api\/jobs\/([^/]+)$/.exec(path);
    if (job && req.method === 'GET') {
      const record = this.jobs.get(decodeURIComponent(job[1] as string));
      return record ? send(res, 200, record) : send(res, 404, `Job ${job[1]} does not exist`);
    }
    if (path === '/v1/models' && req.method === 'GET') {
      const created = Math.floor(Date.now() / 1000);
      return send(res, 200, { object: 'list', data: this.servedModels().map((id) => ({ id, object: 'model', created, owned_by: 'vllm', root: id, parent: null, permission: [] })) });
    }
    send(res, 404, 'Not Found');
  }

  /** GET /api/serve/applications/: the fixture's controller, proxy and options, our applications in its shape. */
  private applications() {
    const doc = fixture();
    const template = Object.values(Object.values(doc.applications)[0]?.deployments ?? {})[0] ?? {};
    const applications = Object.fromEntries(
      [...this.apps.values()].map((app) => [
        app.config.name,
        {
          name: app.config.name,
          route_prefix: app.config.route_prefix ?? '/',
          docs_path: null,
          status: app.status,
          message: app.message,
          last_deployed_time_s: app.deployedAt,
          deployed_app_config: app.config,
          deployments: Object.fromEntries(
            (app.config.deployments ?? []).map((d) => [
              d.name,
              {
                ...template,
                name: d.name,
                status: { RUNNING: 'HEALTHY', DEPLOYING: 'UPDATING', DEPLOY_FAILED: 'DEPLOY_FAILED', UNHEALTHY: 'UNHEALTHY' }[app.status],
                message: app.status === 'DEPLOY_FAILED' || app.status === 'UNHEALTHY' ? app.message : '',
                deployment_config: { ...(template.deployment_config as object), ...d },
                // The fixture's replica, once per configured replica; an unhealthy app's are RECOVERING.
                replicas: ['RUNNING', 'UNHEALTHY'].includes(app.status)
                  ? Array.from({ length: typeof d.num_replicas === 'number' ? d.num_replicas : 1 }, (_, i) => {
                      const replica = (template.replicas as Array<Record<string, unknown>> | undefined)?.[0] ?? {};
                      return { ...replica, replica_id: `${app.config.name}#${d.name}#r${i}`, state: app.status === 'RUNNING' ? 'RUNNING' : 'RECOVERING' };
                    })
                  : [],
              },
            ]),
          ),
        },
      ]),
    );
    return { ...doc, applications };
  }

  private put(body: unknown, res: ServerResponse): void {
    this.puts.push(body);
    if (this.switches.failPuts > 0 && this.switches.failPuts--) return send(res, 500, 'Failed to connect to the Serve controller: ServeController actor is not ready.');
    const apps = (body as { applications?: unknown } | null)?.applications;
    if (!Array.isArray(apps) || apps.some((a) => typeof (a as StubAppConfig)?.name !== 'string' || typeof (a as StubAppConfig)?.import_path !== 'string'))
      return send(res, 400, "1 validation error for ServeDeploySchema\napplications: each application needs 'name' and 'import_path'");
    this.deploy(apps as StubAppConfig[]);
    send(res, 200, '');
  }

  /** Moves Serve to these applications: changed ones redeploy, missing ones go away. */
  private deploy(configs: StubAppConfig[]): void {
    const wanted = new Set(configs.map((c) => c.name));
    for (const name of [...this.apps.keys()]) if (!wanted.has(name)) this.apps.delete(name);
    for (const config of configs) {
      const current = this.apps.get(config.name);
      if (current && JSON.stringify(current.config) === JSON.stringify(config) && current.status === 'RUNNING') continue;
      const app: App = { config: structuredClone(config), status: 'DEPLOYING', message: 'Deploying app. Waiting for replicas to start.', deployedAt: Date.now() / 1000 };
      this.apps.set(config.name, app);
      const fail = this.switches.failModel !== undefined && this.modelsOf(config).includes(this.switches.failModel);
      this.later(this.deployMs, () => {
        if (this.apps.get(config.name) !== app) return;
        if (fail) {
          app.status = 'DEPLOY_FAILED';
          app.message = `Deploying app '${config.name}' failed with exception:\nRuntimeError: The deployment failed to start 3 times in a row. This may be due to a problem with its constructor or initial health check failing.`;
        } else {
          app.status = 'RUNNING';
          app.message = '';
        }
      });
    }
  }

  /** POST /api/jobs/: a `serve deploy` entrypoint redeploys the applications with the job's env vars. */
  private submit(body: unknown, res: ServerResponse): void {
    const req = body as { entrypoint?: unknown; submission_id?: string; runtime_env?: JobRecord['runtime_env']; metadata?: Record<string, string> } | null;
    if (typeof req?.entrypoint !== 'string' || !req.entrypoint) return send(res, 400, "TypeError: submit_job() missing 1 required positional argument: 'entrypoint'");
    const id = req.submission_id ?? `raysubmit_${randomBytes(8).toString('base64url').slice(0, 16)}`;
    if (this.jobs.has(id)) return send(res, 400, `Job with submission_id ${id} already exists. Please use a different submission_id.`);
    const template = JSON.parse(readFixture('ray/ray_jobs_GET_api_jobs_item_issue31183.json')) as JobRecord;
    const record: JobRecord = { ...template, entrypoint: req.entrypoint, job_id: randomBytes(4).toString('hex'), submission_id: id, driver_info: null, status: 'PENDING', message: 'Job has not started yet.', error_type: null, start_time: Date.now(), end_time: null, metadata: req.metadata ?? {}, runtime_env: req.runtime_env ?? {} };
    this.jobs.set(id, record);
    const failJob = this.switches.failJobs;
    this.later(this.deployMs / 2, () => Object.assign(record, { status: 'RUNNING', message: 'Job is currently running.', driver_info: template.driver_info }));
    this.later(this.deployMs, () => {
      if (failJob) return Object.assign(record, { status: 'FAILED', message: 'Job entrypoint command failed with exit code 1', error_type: 'JOB_ENTRYPOINT_COMMAND_ERROR', end_time: Date.now() });
      if (record.entrypoint.startsWith('serve deploy')) {
        const env = req.runtime_env?.env_vars ?? {};
        this.deploy([...this.apps.values()].map((a) => ({ ...a.config, runtime_env: { ...a.config.runtime_env, env_vars: { ...a.config.runtime_env?.env_vars, ...env } } })));
      }
      Object.assign(record, { status: 'SUCCEEDED', message: 'Job finished successfully.', end_time: Date.now() });
    });
    send(res, 200, { job_id: record.job_id, submission_id: id });
  }
}
