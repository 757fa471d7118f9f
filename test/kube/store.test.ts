// The ConfigMap store and the Lease, against the emulator through client-node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingActions } from '../../src/core/pending.js';
import { LeaderElector } from '../../src/kube/leader.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { clientFor, emulatorWithNamespace } from './kube-client.js';

let emu: KubeApiEmulator;
beforeAll(async () => {
  emu = await emulatorWithNamespace();
});
afterAll(async () => {
  await emu.close();
});

describe('ConfigMapStore', () => {
  it("a create in a namespace that doesn't exist says so, instead of reading as a taken key", async () => {
    const store = new ConfigMapStore(clientFor(emu), 'no-such-namespace');
    await expect(store.create('pending', 'abc', { x: 1 })).rejects.toThrow("The bot's state namespace no-such-namespace does not exist on cluster test");
  });

  it('create is create-if-absent, update compares versions, list and delete work', async () => {
    const store = new ConfigMapStore(clientFor(emu), 'vlinders-ops');
    expect(await store.create('lock', 'db/vlinders', { holder: 'a' })).toBe(true);
    expect(await store.create('lock', 'db/vlinders', { holder: 'b' })).toBe(false);
    const entry = await store.get<{ holder: string }>('lock', 'db/vlinders');
    expect(entry?.value).toEqual({ holder: 'a' });
    expect(await store.update('lock', 'db/vlinders', { holder: 'c' }, entry?.version ?? '')).toBe(true);
    expect(await store.update('lock', 'db/vlinders', { holder: 'd' }, entry?.version ?? '')).toBe(false);
    expect((await store.list('lock')).map((e) => [e.key, e.entry.value])).toEqual([['db/vlinders', { holder: 'c' }]]);
    // Kept in the bot's namespace, labelled as its own.
    const cms = emu.list('v1', 'ConfigMap', 'vlinders-ops');
    expect(cms.map((c) => c.metadata.labels?.['app.kubernetes.io/managed-by'])).toEqual(['vlinders-ops']);
    await store.delete('lock', 'db/vlinders');
    expect(await store.get('lock', 'db/vlinders')).toBeUndefined();
  });

  it('ten concurrent claims of one pending action: exactly one wins, across two "replicas"', async () => {
    const replicaA = new PendingActions(new ConfigMapStore(clientFor(emu, 'a'), 'vlinders-ops'), 60_000);
    const replicaB = new PendingActions(new ConfigMapStore(clientFor(emu, 'b'), 'vlinders-ops'), 60_000);
    const action = await replicaA.create({ command: 'scale-gpu', words: ['5'], requester: 'U1', channel: 'C1', risk: 'change', role: 'operator' });
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? replicaA : replicaB).claim(action.id, `U${i}`, 'running')));
    expect(claims.filter((c) => c.ok)).toHaveLength(1);
    expect((await replicaB.get(action.id))?.state).toBe('running');
  });

  it('expired actions are swept', async () => {
    let now = 1_000_000;
    const pending = new PendingActions(new ConfigMapStore(clientFor(emu), 'vlinders-ops'), 60_000, () => now);
    const action = await pending.create({ command: 'x', words: [], requester: 'U1', channel: 'C1', risk: 'change', role: 'operator' });
    now += 2 * 60 * 60 * 1000;
    expect(await pending.sweep()).toBeGreaterThanOrEqual(1);
    expect(await pending.get(action.id)).toBeUndefined();
  });

  it('a 403 names the verb and resource the ServiceAccount lacks', async () => {
    emu.failNext({ method: 'POST', path: /configmaps/ }, { status: 403, reason: 'Forbidden' });
    const store = new ConfigMapStore(clientFor(emu), 'vlinders-ops');
    await expect(store.create('lock', 'x', {})).rejects.toThrow(/may not create configmaps in namespace vlinders-ops \(403 Forbidden\)/);
  });

  it('a call that hangs is reported by name after the deadline', async () => {
    emu.failNext({ method: 'GET', path: /configmaps/ }, 'hang');
    const store = new ConfigMapStore(clientFor(emu, 'test', 300), 'vlinders-ops');
    await expect(store.get('lock', 'slow')).rejects.toThrow(/Timed out after 0 s: get configmaps\/vlinders-ops-lock-[0-9a-f]+ in namespace vlinders-ops on cluster test/);
  });
});

describe('LeaderElector', () => {
  it('one of two replicas leads; when it stops, the other takes over', async () => {
    let now = Date.now();
    const mk = (identity: string) => new LeaderElector(clientFor(emu), { namespace: 'vlinders-ops', name: 'vlinders-ops-leader', identity, leaseSeconds: 15, now: () => now });
    const a = mk('replica-a');
    const b = mk('replica-b');
    expect(await a.tryOnce()).toBe(true);
    expect(await b.tryOnce()).toBe(false);
    now += 5_000;
    expect(await a.tryOnce()).toBe(true); // renews
    expect(await b.tryOnce()).toBe(false);
    await a.stop(); // hands the Lease back
    expect(await b.tryOnce()).toBe(true);
    expect(a.isLeader()).toBe(false);
  });

  it('an expired Lease is taken over', async () => {
    let now = Date.now();
    const mk = (identity: string) => new LeaderElector(clientFor(emu), { namespace: 'vlinders-ops', name: 'lease-expiry', identity, leaseSeconds: 10, now: () => now });
    const a = mk('a');
    const b = mk('b');
    expect(await a.tryOnce()).toBe(true);
    now += 11_000; // a crashed and stopped renewing
    expect(await b.tryOnce()).toBe(true);
    expect(await a.tryOnce()).toBe(false);
  });
});

describe('API errors', () => {
  it('a 404 names the object', async () => {
    const kube = clientFor(emu);
    await expect(
      kube.call({ verb: 'get', resource: 'rayclusters.ray.io', namespace: 'vlinders-inference', name: 'nope' }, () =>
        kube.custom.getNamespacedCustomObject({ group: 'ray.io', version: 'v1', namespace: 'vlinders-inference', plural: 'rayclusters', name: 'nope' }),
      ),
    ).rejects.toThrow('rayclusters "nope" not found in namespace vlinders-inference on cluster test.');
  });

  it('an unreachable API says which call failed', async () => {
    const gone = await KubeApiEmulator.start();
    const kube = clientFor(gone);
    await gone.close();
    await expect(kube.call({ verb: 'list', resource: 'nodes' }, () => kube.core.listNode())).rejects.toThrow(/The Kubernetes API is unreachable for list nodes on cluster test/);
  });
});
