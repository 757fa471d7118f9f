// Unit checks of the emulator's pieces: the ClusterState store, the three patch types,
// selectors, and kubectl's pod STATUS logic.
import { describe, expect, it } from 'vitest';
import { applyPatch } from '../../src/sandbox/kube/patch.js';
import { parseFieldSelector, parseLabelSelector } from '../../src/sandbox/kube/selectors.js';
import { ApiError, type KubeObject, type WatchEvent, humanDuration, podSummary } from '../../src/sandbox/kube/index.js';
import { Store } from '../../src/sandbox/kube/store.js';
import { namespace, pod } from './kube-helpers.js';

const thrown = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
};

describe('Store (ClusterState)', () => {
  it('assigns metadata, hands out copies, and guards resourceVersion', () => {
    const s = new Store();
    const created = s.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { a: '1' } });
    expect(created.metadata).toMatchObject({ uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.stringMatching(/Z$/) });
    const copy = s.get('v1', 'ConfigMap', 'ns', 'c') as KubeObject;
    (copy.data as Record<string, string>).a = 'mutated';
    expect(s.get('v1', 'ConfigMap', 'ns', 'c')?.data).toEqual({ a: '1' });
    expect(thrown(() => s.create(created)).status).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const next = s.replace({ ...created, data: { a: '2' } });
    expect(thrown(() => s.replace({ ...created, data: { a: '3' } })).status).toMatchObject({ code: 409, reason: 'Conflict' });
    const { resourceVersion: _, ...metaWithoutRv } = next.metadata;
    expect(s.replace({ ...next, metadata: metaWithoutRv, data: { a: '4' } }).data).toEqual({ a: '4' });
    s.remove('v1', 'ConfigMap', 'ns', 'c');
    s.remove('v1', 'ConfigMap', 'ns', 'c');
    expect(s.list('v1', 'ConfigMap')).toEqual([]);
  });

  it('bumps generation only when spec changes; defaults namespaces; supports generateName', () => {
    const s = new Store();
    const rc = s.create({ apiVersion: 'ray.io/v1', kind: 'RayCluster', metadata: { name: 'rc' }, spec: { x: 1 } });
    expect(rc.metadata).toMatchObject({ namespace: 'default', generation: 1 });
    expect(s.replace({ ...rc, metadata: { ...rc.metadata, resourceVersion: undefined }, status: { state: 'ready' } }).metadata.generation).toBe(1);
    expect(s.replace({ ...rc, metadata: { ...rc.metadata, resourceVersion: undefined }, spec: { x: 2 } }).metadata.generation).toBe(2);
    const gen = s.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: '', generateName: 'worker-' }, spec: {} });
    expect(gen.metadata.name).toMatch(/^worker-[a-z0-9]{5}$/);
    const node = s.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', namespace: 'ignored' } });
    expect(node.metadata.namespace).toBeUndefined();
  });

  it('delivers watch events asynchronously and in order; deleting a namespace deletes its contents', async () => {
    const s = new Store();
    const seen: string[] = [];
    const stop = s.watch((e: WatchEvent) => seen.push(`${e.type} ${e.object.kind} ${e.object.metadata.name}`));
    s.create(namespace('team'));
    s.create(pod('team', 'p1'));
    s.create(pod('other', 'p2'));
    expect(seen).toEqual([]);
    await Promise.resolve();
    s.remove('v1', 'Namespace', undefined, 'team');
    await Promise.resolve();
    stop();
    expect(seen).toEqual(['ADDED Namespace team', 'ADDED Pod p1', 'ADDED Pod p2', 'DELETED Namespace team', 'DELETED Pod p1']);
    expect(s.list('v1', 'Pod').map((p) => p.metadata.name)).toEqual(['p2']);
    expect(s.eventsSince(0)).toBeUndefined();
  });

  it('lists in key order across namespaces', () => {
    const s = new Store();
    for (const [ns, n] of [['b', 'x'], ['a', 'z'], ['a', 'y']] as const) s.create(pod(ns, n));
    expect(s.list('v1', 'Pod').map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['a/y', 'a/z', 'b/x']);
    expect(s.list('v1', 'Pod', 'a').map((p) => p.metadata.name)).toEqual(['y', 'z']);
  });
});

describe('patches', () => {
  const podDoc = {
    metadata: { name: 'p', labels: { a: '1' }, finalizers: ['x'] },
    spec: {
      containers: [
        { name: 'main', image: 'v1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
        { name: 'side', image: 's1' },
      ],
      tolerations: [{ key: 'gpu' }],
    },
  };
  const smp = (patch: object, kind = 'Pod'): Record<string, unknown> => applyPatch(podDoc, 'application/strategic-merge-patch+json', JSON.stringify(patch), { custom: false, kind });

  it('strategic merge: lists merge by key, $patch delete/replace, primitive merge lists', () => {
    const out = smp({
      metadata: { finalizers: ['y'] },
      spec: { containers: [{ name: 'main', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 81 }] }, { name: 'side', $patch: 'delete' }], tolerations: [{ key: 'cpu' }] },
    });
    expect(out).toEqual({
      metadata: { name: 'p', labels: { a: '1' }, finalizers: ['x', 'y'] },
      spec: {
        containers: [{ name: 'main', image: 'v1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }, { containerPort: 81 }] }],
        tolerations: [{ key: 'cpu' }],
      },
    });
    expect((smp({ metadata: { labels: { $patch: 'replace', b: '2' } } }).metadata as Record<string, unknown>).labels).toEqual({ b: '2' });
    const svc = applyPatch({ spec: { ports: [{ port: 80, targetPort: 8080 }] } }, 'application/strategic-merge-patch+json', '{"spec":{"ports":[{"port":80,"name":"http"}]}}', { custom: false, kind: 'Service' });
    expect(svc).toEqual({ spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }] } });
  });

  it('JSON patch: RFC 6902 ops; 400 for a patch that does not decode, 422 for one that does not apply (missing path, failed test)', () => {
    const out = applyPatch(podDoc, 'application/json-patch+json', JSON.stringify([
      { op: 'add', path: '/spec/containers/-', value: { name: 'third' } },
      { op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/b' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/annotations' },
      { op: 'remove', path: '/spec/tolerations/0' },
      { op: 'test', path: '/spec/containers/2/name', value: 'third' },
    ]), { custom: true, kind: 'X' });
    expect(out.metadata).toEqual({ name: 'p', labels: { b: '1' }, finalizers: ['x'], annotations: 'p' });
    expect((out.spec as { containers: unknown[]; tolerations: unknown[] }).tolerations).toEqual([]);
    const missing = thrown(() => applyPatch(podDoc, 'application/json-patch+json', '[{"op":"replace","path":"/spec/nope","value":1}]', { custom: false, kind: 'Pod' }));
    expect(missing.status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422 });
    expect(thrown(() => applyPatch(podDoc, 'application/json-patch+json', '{"op":"add"}', { custom: false, kind: 'Pod' })).status).toMatchObject({ code: 400, reason: 'BadRequest' });
    const failed = thrown(() => applyPatch(podDoc, 'application/json-patch+json', '[{"op":"test","path":"/metadata/name","value":"q"}]', { custom: false, kind: 'Pod' }));
    expect(failed.status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422 });
  });

  it('merge patch (RFC 7386) replaces lists and deletes with null; unknown types are a 415', () => {
    const out = applyPatch(podDoc, 'application/merge-patch+json; charset=utf-8', '{"metadata":{"labels":null},"spec":{"containers":[{"name":"only"}]}}', { custom: false, kind: 'Pod' });
    expect(out).toEqual({ metadata: { name: 'p', finalizers: ['x'] }, spec: { containers: [{ name: 'only' }], tolerations: [{ key: 'gpu' }] } });
    expect(thrown(() => applyPatch(podDoc, 'application/apply-patch+yaml', '{}', { custom: false, kind: 'Pod' })).code).toBe(415);
  });
});

describe('selectors', () => {
  it('parses set-based label selectors and rejects garbage', () => {
    const m = parseLabelSelector('env in (prod, staging),!legacy,tier!=db,app') as (l: Record<string, string>) => boolean;
    expect(m({ env: 'prod', app: 'x' })).toBe(true);
    expect(m({ env: 'prod', app: 'x', legacy: '' })).toBe(false);
    expect(m({ env: 'dev', app: 'x' })).toBe(false);
    expect(m({ env: 'staging', app: 'x', tier: 'db' })).toBe(false);
    expect(thrown(() => parseLabelSelector('a in (b')).code).toBe(400);
  });

  it('field selectors: =, ==, != and an empty value for absent fields', () => {
    const m = parseFieldSelector('spec.nodeName=,status.phase!=Running', ['spec.nodeName', 'status.phase']) as (f: Record<string, string>) => boolean;
    expect(m({ 'status.phase': 'Pending' })).toBe(true);
    expect(m({ 'status.phase': 'Pending', 'spec.nodeName': 'n1' })).toBe(false);
  });
});

describe("kubectl's pod STATUS", () => {
  const base = (status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'main' }], ...spec },
    status,
  });

  it('covers init containers, image pulls, OOM kills, completion and termination', () => {
    const initSpec = { initContainers: [{ name: 'migrate' }, { name: 'warm' }] };
    expect(podSummary(base({ phase: 'Pending', initContainerStatuses: [{ name: 'migrate', state: { terminated: { exitCode: 0 } } }, { name: 'warm', state: { running: {} } }] }, initSpec)).status).toBe('Init:1/2');
    expect(podSummary(base({ phase: 'Pending', initContainerStatuses: [{ name: 'migrate', state: { waiting: { reason: 'CrashLoopBackOff' } } }] }, initSpec)).status).toBe('Init:CrashLoopBackOff');
    expect(podSummary(base({ phase: 'Pending', containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ImagePullBackOff' } } }] })).status).toBe('ImagePullBackOff');
    expect(podSummary(base({ phase: 'Running', containerStatuses: [{ name: 'main', restartCount: 2, state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] }))).toMatchObject({ status: 'OOMKilled', restarts: '2' });
    expect(podSummary(base({ phase: 'Failed', containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 3 } } }] })).status).toBe('ExitCode:3');
    expect(podSummary(base({ phase: 'Failed', reason: 'Evicted' })).status).toBe('Evicted');
    const terminating = base({ phase: 'Running', containerStatuses: [{ name: 'main', ready: true, state: { running: {} } }] });
    terminating.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    expect(podSummary(terminating)).toMatchObject({ status: 'Terminating', ready: '1/1' });
  });

  it('formats ages like Go duration.HumanDuration', () => {
    const s = 1000;
    expect([5 * s, 119 * s, 150 * s, 600 * s, 3 * 3600 * s + 5 * 60 * s, 30 * 3600 * s, 50 * 3600 * s, 400 * 86400 * s, 800 * 86400 * s].map(humanDuration)).toEqual([
      '5s',
      '119s',
      '2m30s',
      '10m',
      '3h5m',
      '30h',
      '2d2h',
      '400d',
      '2y70d',
    ]);
  });
});
