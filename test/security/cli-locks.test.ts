// Issue 13, item 7: the terminal waits on the bot's locks. With a cluster configured the CLI
// keeps its confirmations and locks in the bot's own store (ConfigMaps in the bot's namespace),
// so a backup, model update or gpu-memory typed at a terminal is refused while the bot holds
// the lock of that database or of Ray Serve — and the bot's lock is left as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { createLogger } from '../../src/core/log.js';
import type { OperationLock } from '../../src/core/operation-lock.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
let c: Cluster;
let botStore: ConfigMapStore;

beforeAll(async () => {
  c = await startCluster();
  if (!c.kube.get('v1', 'Namespace', undefined, 'vlinders-ops')) c.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vlinders-ops' } });
  botStore = new ConfigMapStore(c.client, 'vlinders-ops');
});
afterAll(() => c?.close());

/** The bot (another process) holds this lock, as it does while it runs the operation. */
async function botHolds(kind: string, key: string, operation: string, subject: string): Promise<OperationLock> {
  const lock: OperationLock = { operation, subject, cluster: 'test', by: 'U0BOTUSER1', since: new Date().toISOString(), expiresAt: Date.now() + 120_000, holder: 'the-bot' };
  expect(await botStore.create(kind, key, lock)).toBe(true);
  return lock;
}

async function terminal(words: string[]) {
  const config = clusterConfig();
  config.cli.role = 'admin';
  const out: string[] = [];
  const code = await runCli([...words, '--yes'], {
    config,
    commands,
    log: createLogger('silent'),
    services: c.services,
    io: { stdout: (t) => out.push(t), stderr: (t) => out.push(t) },
  });
  return { code, text: out.join('\n') };
}

describe('the CLI and the bot share their locks', () => {
  it('backup is refused while the bot restores the database', async () => {
    const held = await botHolds('db-operation-lock', 'test.vlinders', 'restore', 'database vlinders');
    const res = await terminal(['backup']);
    expect(res.code).not.toBe(0);
    expect(res.text).toContain('A restore of database vlinders on cluster test is already running');
    expect((await botStore.get<OperationLock>('db-operation-lock', 'test.vlinders'))?.value).toEqual(held);
  }, 60_000);

  it.each([
    ['gpu-memory', ['gpu-memory', '0.85']],
    ['model update', ['model', 'update', 'Qwen/Qwen2.5-7B-Instruct']],
  ])('%s is refused while the bot changes what Serve serves', async (_name, words) => {
    const key = 'test';
    if (!(await botStore.get('serving-operation-lock', key))) await botHolds('serving-operation-lock', key, 'model update', 'Ray Serve application llm-serve');
    const res = await terminal(words);
    expect(res.code).not.toBe(0);
    expect(res.text).toMatch(/A model update of Ray Serve application llm-serve on cluster test is already running/);
  }, 60_000);
});
