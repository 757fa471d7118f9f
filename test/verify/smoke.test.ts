// verify's smoke test against the platform API stub: every step with its latency, the
// throwaway user always removed once it exists, and a failing step's HTTP status and body
// excerpt with tokens and passwords redacted.
import { afterEach, describe, expect, it } from 'vitest';
import { smokeTest } from '../../src/platform-api/smoke.js';
import { startPlatformApi, type PlatformApiOptions, type PlatformStep } from '../../src/sandbox/platform-api/server.js';
import { testConfig } from '../fixtures/world.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function smoke(opts: PlatformApiOptions = {}) {
  const api = await startPlatformApi(opts);
  closers.push(() => api.close());
  const config = testConfig();
  config.platform = { ...config.platform, apiUrl: api.url, timeoutSeconds: 2 };
  const steps = await smokeTest(config, { signal: new AbortController().signal });
  return { api, steps, text: JSON.stringify(steps) };
}

describe('smoke test', () => {
  it('registers, logs in, lists models, completes a chat and removes the user, each step with its latency', async () => {
    const { api, steps } = await smoke();
    expect(steps.map((s) => [s.name, s.result.status])).toEqual([
      ['register a throwaway user', 'pass'],
      ['log in', 'pass'],
      ['GET /v1/models', 'pass'],
      ['POST /v1/chat/completions', 'pass'],
      ['delete the throwaway user', 'pass'],
    ]);
    for (const s of steps) expect(s.result.detail).toMatch(/\(\d+ ms\)$/);
    expect(steps[2]?.result.detail).toContain('meta-llama/Llama-3.1-8B-Instruct');
    expect(api.users.size, 'the throwaway user is gone').toBe(0);
    expect(api.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /api/v1/auth/register 201',
      'POST /api/v1/auth/login 200',
      'GET /v1/models 200',
      'POST /v1/chat/completions 200',
      'DELETE /api/v1/users/me 204',
    ]);
  });

  it('never shows the token or the password', async () => {
    const { api, text } = await smoke();
    expect(api.tokens).toHaveLength(1);
    expect(text).not.toContain(api.tokens[0]);
    expect(text).not.toMatch(/password/i);
  });

  it.each([
    ['models', 'GET /v1/models', 4],
    ['chat', 'POST /v1/chat/completions', 5],
  ] as const)('a failing %s step shows its status and a redacted body, stops, and still removes the user', async (step, what, count) => {
    const leaked = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLWxlYWtlZA';
    const { api, steps, text } = await smoke({ fail: { [step]: { status: 502, body: { error: 'upstream vllm failed', debug: { authorization: `Bearer ${leaked}`, api_key: 'sk-live-abcdef123456' } } } } });
    expect(steps).toHaveLength(count);
    const failed = steps.find((s) => s.result.status === 'fail');
    expect(failed?.name).toBe(what);
    expect(failed?.result.detail).toMatch(new RegExp(`^${what.replace(/[/.]/g, '\\$&')}: HTTP 502 in \\d+ ms: .*upstream vllm failed`));
    expect(failed?.result.detail).toContain('[REDACTED]');
    expect(text).not.toContain(leaked);
    expect(text).not.toContain('sk-live-abcdef123456');
    expect(steps.at(-1)).toMatchObject({ name: 'delete the throwaway user', result: { status: 'pass' } });
    expect(api.users.size).toBe(0);
  });

  it('a failed registration leaves nothing to delete', async () => {
    const { api, steps } = await smoke({ fail: { register: { status: 503, body: 'service unavailable' } } });
    expect(steps.map((s) => s.name)).toEqual(['register a throwaway user']);
    expect(steps[0]?.result.detail).toMatch(/^POST \/api\/v1\/auth\/register: HTTP 503 in \d+ ms: service unavailable$/);
    expect(api.requests).toHaveLength(1);
  });

  it('a failed login says the user was left behind, by name', async () => {
    const { api, steps } = await smoke({ fail: { login: { status: 500, body: { detail: 'db down' } } } });
    expect(steps.map((s) => [s.name, s.result.status])).toEqual([
      ['register a throwaway user', 'pass'],
      ['log in', 'fail'],
      ['delete the throwaway user', 'fail'],
    ]);
    const [email] = [...api.users.keys()];
    expect(email).toMatch(/^vlinders-ops-verify-[0-9a-f]{12}@example\.invalid$/);
    expect(steps[2]?.result.detail).toBe(`${email} was left behind: the login failed`);
  });

  it('a failed delete says so and how to fix it', async () => {
    const step: PlatformStep = 'delete';
    const { api, steps } = await smoke({ fail: { [step]: { status: 403, body: { detail: 'forbidden' } } } });
    expect(steps.at(-1)?.result).toMatchObject({ status: 'fail', fix: expect.stringMatching(/^Delete vlinders-ops-verify-.* by hand\.$/) });
    expect(api.users.size).toBe(1);
  });

  it('an unreachable API and a missing apiUrl are clear', async () => {
    // A port nothing listens on any more.
    const gone = await startPlatformApi();
    await gone.close();
    const config = testConfig();
    config.platform = { ...config.platform, apiUrl: gone.url, timeoutSeconds: 2 };
    const [down] = await smokeTest(config, { signal: new AbortController().signal });
    expect(down?.result).toMatchObject({ status: 'fail', detail: expect.stringContaining(`Could not reach the platform API (POST ${gone.url}/api/v1/auth/register): ECONNREFUSED.`) });
    config.platform.apiUrl = undefined;
    const [missing] = await smokeTest(config, { signal: new AbortController().signal });
    expect(missing?.result).toMatchObject({ status: 'fail', detail: 'platform.apiUrl is not configured' });
  });
});
