// The Vlinders platform API, as verify sees it, for tests: account register/login/delete and
// the OpenAI-compatible /v1/models and /v1/chat/completions that vLLM serves behind it (the
// shapes of OpenAI's API reference). Each step can be made to fail with a status and body.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type PlatformStep = 'register' | 'login' | 'models' | 'chat' | 'delete';

export interface PlatformApiOptions {
  paths?: { register?: string; login?: string; deleteUser?: string };
  models?: string[];
  /** false: /v1/models and chat answer without a token, as Ray Serve's own proxy does (default true). */
  requireAuth?: boolean;
  /** Answer this step with this status and body instead. */
  fail?: Partial<Record<PlatformStep, { status: number; body: unknown }>>;
}

export interface PlatformApiStub {
  url: string;
  /** Registered accounts by email (deleted ones are removed). */
  users: Map<string, { id: string; password: string }>;
  requests: Array<{ method: string; path: string; status: number }>;
  fail: NonNullable<PlatformApiOptions['fail']>;
  /** Every token it issued: a test scans output for them. */
  tokens: string[];
  close(): Promise<void>;
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  try {
    return JSON.parse(text || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function startPlatformApi(opts: PlatformApiOptions = {}): Promise<PlatformApiStub> {
  const paths = { register: '/api/v1/auth/register', login: '/api/v1/auth/login', deleteUser: '/api/v1/users/me', ...opts.paths };
  const models = opts.models ?? ['meta-llama/Llama-3.1-8B-Instruct'];
  const signingKey = randomBytes(32);
  const users = new Map<string, { id: string; password: string }>();
  const sessions = new Map<string, string>(); // token → email
  const tokens: string[] = [];
  const requests: PlatformApiStub['requests'] = [];
  const fail = { ...opts.fail };

  const issue = (email: string, id: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: id, email, iat: now, exp: now + 3600 })}`;
    const token = `${unsigned}.${createHmac('sha256', signingKey).update(unsigned).digest('base64url')}`;
    sessions.set(token, email);
    tokens.push(token);
    return token;
  };
  const caller = (req: IncomingMessage) => (opts.requireAuth === false ? 'anonymous' : sessions.get((req.headers.authorization ?? '').replace(/^Bearer /, '')));

  const handle = async (req: IncomingMessage, res: ServerResponse, send: (status: number, body?: unknown) => void) => {
    const path = (req.url ?? '/').split('?')[0];
    const step: PlatformStep | undefined =
      req.method === 'POST' && path === paths.register ? 'register'
      : req.method === 'POST' && path === paths.login ? 'login'
      : req.method === 'GET' && path === '/v1/models' ? 'models'
      : req.method === 'POST' && path === '/v1/chat/completions' ? 'chat'
      : req.method === 'DELETE' && path === paths.deleteUser ? 'delete'
      : undefined;
    if (!step) return send(404, { detail: 'Not Found' });
    const body = req.method === 'POST' ? await readJson(req) : {};
    const failure = fail[step];
    if (failure) return send(failure.status, failure.body);
    switch (step) {
      case 'register': {
        const email = String(body.email ?? '');
        const password = String(body.password ?? '');
        if (!email.includes('@') || password.length < 12) return send(422, { detail: 'email and a password of at least 12 characters are required' });
        if (users.has(email)) return send(409, { detail: 'email already registered' });
        const id = randomUUID();
        users.set(email, { id, password });
        return send(201, { id, email, created_at: new Date().toISOString() });
      }
      case 'login': {
        const user = users.get(String(body.email ?? ''));
        if (!user || user.password !== body.password) return send(401, { detail: 'invalid credentials' });
        return send(200, { access_token: issue(String(body.email), user.id), token_type: 'bearer', expires_in: 3600 });
      }
      case 'models': {
        if (!caller(req)) return send(401, { error: { message: 'missing or invalid token', type: 'invalid_request_error', code: 'invalid_api_key' } });
        const created = Math.floor(Date.now() / 1000);
        return send(200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'vllm', root: id, parent: null, max_model_len: 8192 })) });
      }
      case 'chat': {
        if (!caller(req)) return send(401, { error: { message: 'missing or invalid token', type: 'invalid_request_error', code: 'invalid_api_key' } });
        if (!models.includes(String(body.model))) return send(404, { error: { message: `The model \`${String(body.model)}\` does not exist.`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
        return send(200, {
          id: `chatcmpl-${randomBytes(12).toString('hex')}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, logprobs: null, finish_reason: 'length' }],
          usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
        });
      }
      case 'delete': {
        const email = caller(req);
        if (!email) return send(401, { detail: 'not authenticated' });
        users.delete(email);
        for (const [t, e] of sessions) if (e === email) sessions.delete(t);
        return send(204);
      }
    }
  };

  const server: Server = createServer((req, res) => {
    const record = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    requests.push(record);
    const send = (status: number, body?: unknown) => {
      record.status = status;
      if (body === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    handle(req, res, send).catch((err: unknown) => send(500, { detail: String(err) }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    requests,
    fail,
    tokens,
    close: () => new Promise((ok) => { server.close(() => ok()); server.closeAllConnections(); }),
  };
}
