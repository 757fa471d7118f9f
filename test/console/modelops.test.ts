// The sandbox console carries a Ray dashboard stub, so `model update` works in the demo as it
// does against a real cluster: typed through the console's API, approved, ✅ with the new model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { DEMO_CHANNELS, DEMO_USERS, startConsole, type Console } from '../../src/console/index.js';

let app: Console;
beforeAll(async () => {
  app = await startConsole({ port: 0, kubeconfig: false, log: createLogger('silent') });
});
afterAll(async () => {
  await app?.close();
});

const post = (path: string, body: unknown) => fetch(new URL(path, app.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('console: model update in the sandbox', () => {
  it('an admin updates the model in #ops and it ends ✅', async () => {
    const { admin } = DEMO_USERS;
    const ops = DEMO_CHANNELS.ops.id;
    expect((await post('/api/command', { user: admin.id, channel: ops, text: '/vlinders model update Qwen/Qwen2.5-7B-Instruct' })).status).toBe(200);
    const card = await app.slack.waitFor(() => app.slack.messages.find((m) => m.channel === ops && JSON.stringify(m.blocks ?? []).includes('vlinders_approve')), 10_000);
    expect(JSON.stringify(card.blocks)).toContain('meta-llama/Llama-3.1-8B-Instruct → Qwen/Qwen2.5-7B-Instruct');
    expect((await post('/api/click', { user: admin.id, channel: ops, ts: card.ts, actionId: 'vlinders_approve' })).status).toBe(200);
    const done = await app.slack.waitFor(() => (/Done|Failed/.test(card.text) ? card : undefined), 30_000);
    expect(done.text).toMatch(/^✅ Done/);
  });
});
