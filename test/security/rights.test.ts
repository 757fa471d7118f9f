// Issue 13, item 12: rights that were too broad. `scale-gpu 0` takes serving down and
// `backup prune` deletes recovery points, so neither may be approved by its own requester;
// a role binding may be limited to clusters as it may to channels.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { createLogger } from '../../src/core/log.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { fixedClusters } from '../../src/kube/directory.js';
import { confirmationCard } from '../../src/slack/cards.js';
import { commands } from '../../commands/index.js';
import { CHANNELS, CONFIG_YAML, USERS } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { clientFor } from '../kube/kube-client.js';
import { blocksText } from '../e2e/harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const RAY = ['ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster'] as const;

async function cluster() {
  const c = await startCluster({ gpuNodes: 6, workers: 3, minWorkers: 0, readyDelayMs: 20 });
  closers.push(() => c.close());
  const replicas = () => (c.kube.get(...RAY)?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas;
  return { ...c, replicas };
}

describe('scale-gpu 0 is destructive', () => {
  it('its own requester cannot approve it; a second person who is an approver can', async () => {
    const c = await cluster();
    const { engine } = testEngine({ config: clusterConfig(), services: c.services });
    const approver = slackCaller(USERS.approver, CHANNELS.ops);
    const asked = await engine.invoke(approver, 'scale-gpu 0', noIO());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    expect(asked.action.risk).toBe('destructive');
    expect(blocksText(asked.plan.sections)).toContain('every model stops serving');
    // The card says two people, and its Approve button is the danger one.
    const card = blocksText(confirmationCard(asked.action, asked.command, asked.plan, 'scale-gpu 0').blocks);
    expect(card).toContain('Destructive: a second person');
    expect(card).toContain('"style":"danger"');

    const own = await engine.decide(asked.action.id, approver, 'approve');
    expect(own).toMatchObject({ kind: 'refused', message: expect.stringContaining('destructive: a second person') });
    // An operator who may run scale-gpu but is no approver can't either.
    const operator = await engine.decide(asked.action.id, slackCaller(USERS.operator, CHANNELS.ops), 'approve');
    expect(operator).toMatchObject({ kind: 'refused', message: expect.stringContaining('needs an approver') });
    expect(c.replicas()).toBe(3);
  });

  it('asked by an operator and approved by an approver, it runs', async () => {
    const c = await cluster();
    const { engine } = testEngine({ config: clusterConfig(), services: c.services });
    const asked = await engine.invoke(slackCaller(USERS.operator, CHANNELS.ops), 'scale-gpu 0', noIO());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    const decided = await engine.decide(asked.action.id, slackCaller(USERS.approver, CHANNELS.ops), 'approve');
    if (decided.kind !== 'approved') throw new Error(JSON.stringify(decided));
    expect((await engine.execute(decided.action, decided.command, noIO(), 'slack')).status).toBe('ok');
    expect(c.replicas()).toBe(0);
  });

  it('the terminal refuses it even with --yes (nobody there can be the second person)', async () => {
    const c = await cluster();
    // The bot's namespace, where the terminal keeps its confirmations beside the bot's.
    c.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vlinders-ops' } });
    const dir = mkdtempSync(join(tmpdir(), 'vlinders-rights-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    await c.kube.writeKubeconfig(kubeconfig);
    const config = { ...clusterConfig(), clusters: [{ name: 'test', kubeconfig }], cli: { role: 'admin' as const } };
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (t: string) => void err.push(t) };
    expect(await runCli(['scale-gpu', '0', '--yes'], { config, commands, log: createLogger('silent'), io })).toBe(3);
    expect(err.join('\n')).toContain('is destructive: a second person must approve it');
    expect(c.replicas()).toBe(3);
    // Any other count is an ordinary change there.
    expect(await runCli(['scale-gpu', '1', '--yes'], { config, commands, log: createLogger('silent'), io })).toBe(0);
    expect(c.replicas()).toBe(1);
  });

  it('any other count stays a change its requester may approve', async () => {
    const c = await cluster();
    const { engine } = testEngine({ config: clusterConfig(), services: c.services });
    const operator = slackCaller(USERS.operator, CHANNELS.ops);
    const asked = await engine.invoke(operator, 'scale-gpu 1', noIO());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    expect(asked.action.risk).toBe('change');
    expect(await engine.decide(asked.action.id, operator, 'approve')).toMatchObject({ kind: 'approved' });
  });
});

describe('backup prune is destructive', () => {
  // Deleting backups can't be undone and takes away the way back after a bad restore or an
  // intrusion; a restore already needs two people, so removing what it restores from does too.
  it('is declared destructive, so its requester can never approve it', () => {
    expect(commands.find((c) => c.name === 'backup prune')?.risk).toBe('destructive');
  });
});

/** Two clusters, prod (the default) and staging, with an operator bound to staging only. */
function twoClusterConfig(operatorClusters: string) {
  return parseConfigText(
    `${CONFIG_YAML.replace(`    operator:\n      users: [${USERS.operator}]\n      channels: [${CHANNELS.ops}]`, `    operator:\n      users: [${USERS.operator}]\n      channels: [${CHANNELS.ops}]\n      clusters: [${operatorClusters}]`)}
clusters:
  - name: prod
  - name: staging
`,
  );
}

describe('role bindings limited to clusters', () => {
  it('an operator bound to staging runs changes there, not on prod (the default), and approves only there', async () => {
    const c = await cluster();
    const config = twoClusterConfig('staging');
    expect(config.rbac.roles.operator?.clusters).toEqual(['staging']);
    const base = clusterConfig();
    const services = fixedClusters([clientFor(c.kube, 'prod'), clientFor(c.kube, 'staging')]);
    const { engine } = testEngine({ config: { ...base, clusters: config.clusters, rbac: config.rbac }, services });
    const operator = slackCaller(USERS.operator, CHANNELS.ops);

    const onProd = await engine.invoke(operator, 'scale-gpu 4', noIO());
    expect(onProd).toMatchObject({ kind: 'error', message: expect.stringContaining('for cluster prod') });
    const onProdNamed = await engine.invoke(operator, 'scale-gpu 4 --cluster prod', noIO());
    expect(onProdNamed.kind).toBe('error');
    const onStaging = await engine.invoke(operator, 'scale-gpu 4 --cluster staging', noIO());
    expect(onStaging.kind).toBe('confirm');

    // An admin asks for a change on prod: the staging-only operator can't approve it.
    const asked = await engine.invoke(slackCaller(USERS.admin, CHANNELS.ops), 'scale-gpu 5', noIO());
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    expect(await engine.decide(asked.action.id, operator, 'approve')).toMatchObject({ kind: 'refused', message: expect.stringContaining('for cluster prod') });
    expect(await engine.decide(asked.action.id, slackCaller(USERS.admin, CHANNELS.ops), 'approve')).toMatchObject({ kind: 'approved' });
  });

  it('a binding naming a cluster the config lacks is refused at load', () => {
    expect(() => twoClusterConfig('stagin')).toThrow(ConfigError);
    try {
      twoClusterConfig('stagin');
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['rbac.roles.operator.clusters[0]: "stagin" is not a configured cluster (clusters: prod, staging)']);
    }
  });
});
