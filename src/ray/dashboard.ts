// The Ray dashboard's REST API (port 8265) and Serve's OpenAI-compatible route (port 8000):
// Serve applications (GET/PUT /api/serve/applications/), Ray Jobs (POST /api/jobs/, GET
// /api/jobs/{id}) and GET /v1/models. Shapes as documented by Ray (see the captured responses
// in test/fixtures/captured/ray). Every request has a deadline; failures come back as
// UnreachableError naming the URL, with the body excerpt redacted.
import { UnreachableError } from '../core/errors.js';
import { httpFetch } from '../core/http-fetch.js';
import { redactText } from '../core/redact.js';

/** Serve configs and Jobs answers are small; more than this is not one of them. */
const MAX_ANSWER = 16 * 1024 * 1024;

export type ServeAppStatus = 'NOT_STARTED' | 'DEPLOYING' | 'DEPLOY_FAILED' | 'RUNNING' | 'UNHEALTHY' | 'DELETING';

/** One application's declarative config: what `serve deploy` takes, and what GET echoes as deployed_app_config. */
export interface ServeAppConfig {
  name: string;
  route_prefix?: string | null;
  import_path: string;
  runtime_env?: { env_vars?: Record<string, string>; [key: string]: unknown };
  args?: Record<string, unknown>;
  deployments?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ServeApplication {
  name: string;
  route_prefix?: string | null;
  status: ServeAppStatus;
  message: string;
  last_deployed_time_s?: number;
  deployed_app_config: ServeAppConfig | null;
  deployments: Record<string, { name: string; status: string; message: string; [key: string]: unknown }>;
}

export interface ServeApplicationsResponse {
  proxy_location?: string;
  http_options?: Record<string, unknown>;
  grpc_options?: Record<string, unknown>;
  applications: Record<string, ServeApplication>;
  [key: string]: unknown;
}

/** The body of PUT /api/serve/applications/ (Serve's ServeDeploySchema). */
export interface ServeDeployConfig {
  proxy_location?: string;
  http_options?: Record<string, unknown>;
  grpc_options?: Record<string, unknown>;
  applications: ServeAppConfig[];
}

export type RayJobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';

export interface RayJobDetails {
  submission_id?: string;
  status: RayJobStatus;
  message?: string;
  entrypoint?: string;
  [key: string]: unknown;
}

export interface RayJobSubmission {
  entrypoint: string;
  submission_id?: string;
  runtime_env?: Record<string, unknown>;
  metadata?: Record<string, string>;
}

export interface OpenAIModels {
  object: 'list';
  data: Array<{ id: string; object: string; [key: string]: unknown }>;
}

/** What GET answered, as the declarative config PUT would restore (null-valued options dropped). */
export function declarativeConfig(state: ServeApplicationsResponse): ServeDeployConfig {
  const dropNulls = (o: Record<string, unknown> | undefined) => (o ? Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) : undefined);
  const applications = Object.values(state.applications)
    .map((a) => a.deployed_app_config)
    .filter((c): c is ServeAppConfig => c !== null && c !== undefined);
  return {
    ...(state.proxy_location ? { proxy_location: state.proxy_location } : {}),
    ...(state.http_options ? { http_options: dropNulls(state.http_options) } : {}),
    ...(state.grpc_options ? { grpc_options: dropNulls(state.grpc_options) } : {}),
    applications,
  };
}

export interface DashboardOptions {
  dashboardUrl: string;
  serveUrl: string;
  timeoutMs: number;
}

export class RayDashboard {
  constructor(private opts: DashboardOptions) {}

  getApplications(signal?: AbortSignal): Promise<ServeApplicationsResponse> {
    return this.request<ServeApplicationsResponse>(this.opts.dashboardUrl, 'GET', '/api/serve/applications/', undefined, signal);
  }

  /** Replaces the whole declarative Serve config; Serve then moves the applications toward it. */
  async putApplications(config: ServeDeployConfig, signal?: AbortSignal): Promise<void> {
    await this.request<unknown>(this.opts.dashboardUrl, 'PUT', '/api/serve/applications/', config, signal);
  }

  submitJob(job: RayJobSubmission, signal?: AbortSignal): Promise<{ submission_id: string; job_id?: string }> {
    return this.request(this.opts.dashboardUrl, 'POST', '/api/jobs/', job, signal);
  }

  getJob(submissionId: string, signal?: AbortSignal): Promise<RayJobDetails> {
    return this.request(this.opts.dashboardUrl, 'GET', `/api/jobs/${encodeURIComponent(submissionId)}`, undefined, signal);
  }

  /** Serve's OpenAI-compatible model list. */
  listModels(signal?: AbortSignal): Promise<OpenAIModels> {
    return this.request(this.opts.serveUrl, 'GET', '/v1/models', undefined, signal);
  }

  private async request<T>(base: string, method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    const where = `${method} ${redactText(url.toString())}`;
    const res = await httpFetch(
      url,
      { method, headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) },
      { system: 'the Ray dashboard', timeoutMs: this.opts.timeoutMs, signal, maxBytes: MAX_ANSWER },
    );
    if (res.cut) throw new UnreachableError(`The Ray dashboard answered ${where} with more than ${MAX_ANSWER >> 20} MiB; that is not a Serve or Jobs answer.`);
    if (!res.ok) throw new UnreachableError(`The Ray dashboard answered ${res.status} to ${where}${res.text ? `: ${redactText(res.text.slice(0, 300))}` : ''}.`);
    if (!res.text) return undefined as T;
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new UnreachableError(`The Ray dashboard answered ${where} with something that is not JSON: ${redactText(res.text.slice(0, 120))}`);
    }
  }
}

/** The dashboard of the configured RayCluster. */
export function dashboardFor(ray: { dashboardUrl: string; serveUrl: string; dashboardTimeoutSeconds: number }): RayDashboard {
  return new RayDashboard({ dashboardUrl: ray.dashboardUrl, serveUrl: ray.serveUrl, timeoutMs: ray.dashboardTimeoutSeconds * 1000 });
}
