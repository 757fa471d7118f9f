// Reading which model Serve serves from the documented GET response, and the new config a
// redeploy PUTs: only the one env var changes.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { serveView, withModel } from '../../src/models/serve-model.js';
import type { ServeApplicationsResponse } from '../../src/ray/dashboard.js';
import { readCaptured } from '../fixtures/captured.js';

const ray = { ...configSchema.parse({}).ray, serveApplication: 'app1', serveModelEnv: 'MODEL_ID' };
/** The documented response, with app1's runtime_env naming a model (derived, as KubeRay's vLLM sample does). */
function documented(): ServeApplicationsResponse {
  const doc = JSON.parse(readCaptured('ray/serve_api_applications_GET_response_docs.json')) as ServeApplicationsResponse;
  const app = doc.applications.app1?.deployed_app_config;
  if (app) app.runtime_env = { env_vars: { MODEL_ID: 'org/current', TENSOR_PARALLELISM: '2' } };
  return doc;
}

describe('serveView and withModel', () => {
  it('read the application, its status and model, and change only the model env var', () => {
    const view = serveView(documented(), ray);
    expect(view).toMatchObject({ status: 'RUNNING', model: 'org/current' });
    const next = withModel(view.config, ray, 'org/next');
    expect(next.applications[0]?.runtime_env?.env_vars).toEqual({ MODEL_ID: 'org/next', TENSOR_PARALLELISM: '2' });
    expect({ ...next.applications[0], runtime_env: undefined }).toEqual({ ...view.config.applications[0], runtime_env: undefined });
    expect(view.config.applications[0]?.runtime_env?.env_vars?.MODEL_ID).toBe('org/current'); // not mutated
  });

  it('name the applications there are when the configured one is missing', () => {
    expect(() => serveView(documented(), { ...ray, serveApplication: 'vlinders-llm' })).toThrow('Ray Serve has no application "vlinders-llm" (it has: app1)');
  });

  it('refuse a PUT that would remove an application deployed without a config; the jobs mode may go on', () => {
    const doc = documented();
    const app1 = doc.applications.app1;
    if (!app1) throw new Error('fixture changed');
    doc.applications.scratch = { ...app1, name: 'scratch', deployed_app_config: null };
    expect(() => serveView(doc, ray)).toThrow('scratch was not deployed from a config');
    expect(serveView(doc, { ...ray, redeploy: 'jobs' }).model).toBe('org/current');
  });
});
