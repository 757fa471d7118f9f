// The runbook's functional smoke test against the platform API, step by step with latency:
// register a throwaway user, log in, list the models, one tiny chat completion, and always
// delete the user again once it exists. Its password and token never leave this file.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { CheckResult } from '../preflight/check.js';
import { httpCall, modelIds, type HttpAnswer } from './http.js';

export interface SmokeStep {
  name: string;
  result: CheckResult;
}

interface ChatCompletion {
  choices?: Array<{ message?: { content?: string | null } }>;
}

const failed = (a: HttpAnswer, what: string): CheckResult => ({ status: 'fail', detail: `${what}: HTTP ${a.status} in ${a.ms} ms: ${a.excerpt || '(empty body)'}` });

export async function smokeTest(config: Config, opts: { signal: AbortSignal; progress?: (text: string) => Promise<void> }): Promise<SmokeStep[]> {
  const { apiUrl, apiPaths, verifyUserPrefix, timeoutSeconds, domain } = config.platform;
  if (!apiUrl) return [{ name: 'platform API', result: { status: 'fail', detail: 'platform.apiUrl is not configured', fix: 'Set platform.apiUrl (e.g. https://api.vlinders.example) in the vlinders-ops config.' } }];
  const timeoutMs = timeoutSeconds * 1000;
  const call = (method: string, path: string, body?: unknown, token?: string) => httpCall(apiUrl, method, path, { body, token, timeoutMs, signal: opts.signal });
  const steps: SmokeStep[] = [];
  const step = async (name: string, work: () => Promise<CheckResult>): Promise<boolean> => {
    await opts.progress?.(`smoke test: ${name}…`);
    let result: CheckResult;
    try {
      result = await work();
    } catch (err) {
      result = { status: 'fail', detail: errorMessage(err) };
    }
    steps.push({ name, result });
    return result.status !== 'fail';
  };

  const email = `${verifyUserPrefix}${randomBytes(6).toString('hex')}@${domain ?? 'example.invalid'}`;
  const password = randomBytes(18).toString('base64url');
  let token: string | undefined;
  let model: string | undefined;
  let registered = false;

  // In order; the first failing step stops the rest.
  const sequence: Array<[string, () => Promise<CheckResult>]> = [
    ['register a throwaway user', async () => {
      const a = await call('POST', apiPaths.register, { email, password });
      if (a.status !== 200 && a.status !== 201) return failed(a, `POST ${apiPaths.register}`);
      registered = true;
      return { status: 'pass', detail: `${email} (${a.ms} ms)` };
    }],
    ['log in', async () => {
      const a = await call('POST', apiPaths.login, { email, password });
      const t = (a.json as { access_token?: unknown } | undefined)?.access_token;
      if (a.status !== 200) return failed(a, `POST ${apiPaths.login}`);
      if (typeof t !== 'string' || !t) return { status: 'fail', detail: `POST ${apiPaths.login}: HTTP 200 without an access_token (${a.ms} ms)` };
      token = t;
      return { status: 'pass', detail: `a token (${a.ms} ms)` };
    }],
    ['GET /v1/models', async () => {
      const a = await call('GET', '/v1/models', undefined, token);
      if (a.status !== 200) return failed(a, 'GET /v1/models');
      const ids = modelIds(a.json);
      if (ids.length === 0) return { status: 'fail', detail: `GET /v1/models lists no model (${a.ms} ms)`, fix: 'Is the Ray Serve application RUNNING? `/vlinders verify --phase 3`.' };
      model = ids[0];
      return { status: 'pass', detail: `${ids.join(', ')} (${a.ms} ms)` };
    }],
    ['POST /v1/chat/completions', async () => {
      const a = await call('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1, temperature: 0 }, token);
      if (a.status !== 200) return failed(a, 'POST /v1/chat/completions');
      if (!(a.json as ChatCompletion | undefined)?.choices?.length) return { status: 'fail', detail: `POST /v1/chat/completions: HTTP 200 without choices (${a.ms} ms): ${a.excerpt}` };
      return { status: 'pass', detail: `${model} answered (${a.ms} ms)` };
    }],
  ];

  try {
    for (const [name, work] of sequence) if (!(await step(name, work))) break;
  } finally {
    // Once the user exists it is removed, whatever failed in between.
    if (registered) {
      await step('delete the throwaway user', async () => {
        if (!token) {
          // Without a token the API cannot be asked to delete it.
          return { status: 'fail', detail: `${email} was left behind: the login failed`, fix: `Delete it by hand (${email}).` };
        }
        const a = await call('DELETE', apiPaths.deleteUser, undefined, token);
        if (a.status !== 200 && a.status !== 204) return { ...failed(a, `DELETE ${apiPaths.deleteUser}`), fix: `Delete ${email} by hand.` };
        return { status: 'pass', detail: `${email} removed (${a.ms} ms)` };
      });
    }
  }
  return steps;
}
