// The apiserver's delete, status-code and validation contracts, held with the real client-node and
// kubectl: graceful pod deletion, finalizers, DeleteOptions preconditions and propagationPolicy
// (the garbage collector), dryRun on collections, 422 vs 400 for patches, DNS-1123 names, the
// 1 MiB data limit, Job deadlines, and the call ledger a test asserts its calls with.
import { ApiException, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiEmulator, type KubeObject, callProblems } from '../../src/sandbox/kube/index.js';
import { startJobController, startKubelet } from '../../src/sandbox/kube/world/index.js';
import { Kubectl, namespace, node, pod, rayCluster, until } from './kube-helpers.js';

const NS = 'vlinders-inference';
let emu: KubeApiEmulator;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let batch: BatchV1Api;
let kubectl: Kubectl;

beforeAll(async () => {
  emu = await KubeApiEmulator.start();
  for (const ns of ['default', NS]) emu.create(namespace(ns));
  emu.create(node('gpu-1', { gpus: 8 }));
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  batch = kc.makeApiClient(BatchV1Api);
  kubectl = await Kubectl.for(emu);
});

afterAll(async () => {
  await kubectl.cleanup();
  await emu.close();
});

const errorOf = async (p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: JSON.parse(String(e.body)) as Record<string, unknown> };
    throw e;
  }
  throw new Error('expected the call to fail');
};

const cm = (name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, ...extra }, data: { k: 'v' } });
const ownedBy = (owner: KubeObject) => [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid as string, blockOwnerDeletion: true }];
const getCm = (name: string) => emu.get('v1', 'ConfigMap', NS, name);

describe('graceful deletion', () => {
  it('a scheduled pod stays Terminating for its grace period; grace 0 or an unscheduled pod goes at once', async () => {
    emu.create(pod(NS, 'serving-1'));
    const deleted = await core.deleteNamespacedPod({ name: 'serving-1', namespace: NS });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    expect(deleted.metadata?.deletionGracePeriodSeconds).toBe(30);
    // The deadline is the grace period away; the pod is still there and still says Ready, as a real one does.
    const left = new Date(deleted.metadata?.deletionTimestamp as unknown as string).getTime() - Date.now();
    expect(left).toBeGreaterThan(25_000);
    const still = await core.readNamespacedPod({ name: 'serving-1', namespace: NS });
    expect(still.status?.containerStatuses?.[0]?.ready).toBe(true);
    const table = await kubectl.run(['get', 'pod', 'serving-1', '-n', NS, '--no-headers']);
    expect(String(table.stdout)).toMatch(/^serving-1\s+1\/1\s+Terminating/);
    // A second delete is no error and keeps the deadline; a shorter grace ends it.
    const again = await core.deleteNamespacedPod({ name: 'serving-1', namespace: NS });
    expect(again.metadata?.deletionTimestamp).toEqual(deleted.metadata?.deletionTimestamp);
    await core.deleteNamespacedPod({ name: 'serving-1', namespace: NS, gracePeriodSeconds: 0 });
    expect(emu.get('v1', 'Pod', NS, 'serving-1')).toBeUndefined();

    emu.create(pod(NS, 'never-scheduled', { state: 'pending' }));
    await core.deleteNamespacedPod({ name: 'never-scheduled', namespace: NS });
    expect(emu.get('v1', 'Pod', NS, 'never-scheduled')).toBeUndefined();
  });

  it("the world's kubelet ends a Terminating pod once its containers stop", async () => {
    const kubelet = startKubelet(emu, { terminationMs: 100 });
    try {
      emu.create(pod(NS, 'stopping-1'));
      await core.deleteNamespacedPod({ name: 'stopping-1', namespace: NS });
      expect(emu.get('v1', 'Pod', NS, 'stopping-1')?.metadata.deletionTimestamp).toBeDefined();
      await until('pod gone', () => !emu.get('v1', 'Pod', NS, 'stopping-1'));
    } finally {
      kubelet.stop();
    }
  });

  it("a NotReady node's pods stay Terminating past their grace period until the node is Ready again, its Node is deleted, or a force delete", async () => {
    const kubelet = startKubelet(emu, { terminationMs: 50 });
    try {
      emu.create(node('gpu-lost', { ready: false }));
      emu.create(node('gpu-gone', { ready: false }));
      const stranded = [['back-1', 'gpu-lost'], ['orphan-1', 'gpu-gone'], ['forced-1', 'gpu-lost']] as const;
      for (const [name, on] of stranded) {
        const p = pod(NS, name, { node: on });
        Object.assign(p.spec as object, { terminationGracePeriodSeconds: 1 });
        emu.create(p);
        await core.deleteNamespacedPod({ name, namespace: NS });
      }
      // Past the end of every grace period (the deadline has seconds precision), nothing finished them.
      const deadline = Math.max(...stranded.map(([name]) => Date.parse(String(emu.get('v1', 'Pod', NS, name)?.metadata.deletionTimestamp))));
      await new Promise((r) => setTimeout(r, deadline + 1000 - Date.now()));
      const table = String((await kubectl.run(['get', 'pods', '-n', NS, '--no-headers', '--field-selector', 'spec.nodeName=gpu-lost'])).stdout);
      expect(table).toMatch(/^back-1\s+1\/1\s+Terminating/m);
      expect(table).toMatch(/^forced-1\s+1\/1\s+Terminating/m);
      expect(emu.get('v1', 'Pod', NS, 'orphan-1')?.metadata.deletionTimestamp).toBeDefined();

      expect((await kubectl.run(['delete', 'pod', 'forced-1', '-n', NS, '--grace-period=0', '--force'])).exitCode).toBe(0);
      expect(emu.get('v1', 'Pod', NS, 'forced-1')).toBeUndefined();
      // The pod GC removes pods bound to a node that no longer exists.
      expect((await kubectl.run(['delete', 'node', 'gpu-gone'])).exitCode).toBe(0);
      await until('orphan-1 collected', () => !emu.get('v1', 'Pod', NS, 'orphan-1'));
      expect(emu.get('v1', 'Pod', NS, 'back-1')?.metadata.deletionTimestamp).toBeDefined();
      // The kubelet is back: it kills what it was asked to stop.
      await core.patchNodeStatus({ name: 'gpu-lost', body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await until('back-1 gone', () => !emu.get('v1', 'Pod', NS, 'back-1'));
    } finally {
      kubelet.stop();
    }
  });

  it('finalizers hold any object until removed; a deleting object takes no new finalizer', async () => {
    emu.create(cm('held', { finalizers: ['example.com/hold'] }));
    await core.deleteNamespacedConfigMap({ name: 'held', namespace: NS });
    expect(getCm('held')?.metadata).toMatchObject({ finalizers: ['example.com/hold'], deletionGracePeriodSeconds: 0, deletionTimestamp: expect.any(String) });
    const added = await errorOf(core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
    expect(added.code).toBe(422);
    expect(added.body.message).toBe('ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/more"}');
    // deletionTimestamp is the server's: an update can't clear it.
    const cleared = await core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: { metadata: { deletionTimestamp: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(cleared.metadata?.deletionTimestamp).toBeDefined();
    await core.patchNamespacedConfigMap({ name: 'held', namespace: NS, body: [{ op: 'remove', path: '/metadata/finalizers' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    expect(getCm('held')).toBeUndefined();
  });

  it('preconditions: a uid or resourceVersion that no longer matches is a 409 and deletes nothing', async () => {
    const made = emu.create(cm('guarded'));
    const byUid = await errorOf(core.deleteNamespacedConfigMap({ name: 'guarded', namespace: NS, body: { preconditions: { uid: 'not-the-uid' } } }));
    expect(byUid.code).toBe(409);
    expect(byUid.body).toMatchObject({ reason: 'Conflict', details: { name: 'guarded', kind: 'configmaps' } });
    expect(byUid.body.message).toBe(
      `Operation cannot be fulfilled on configmaps "guarded": StorageError: invalid object, Code: 4, Key: /registry/configmaps/${NS}/guarded, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${made.metadata.uid}`,
    );
    const byRv = await errorOf(core.deleteNamespacedConfigMap({ name: 'guarded', namespace: NS, body: { preconditions: { resourceVersion: '1' } } }));
    expect(byRv.code).toBe(409);
    expect(String(byRv.body.message)).toContain(`Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${made.metadata.resourceVersion}`);
    expect(getCm('guarded')).toBeDefined();
    await core.deleteNamespacedConfigMap({ name: 'guarded', namespace: NS, body: { preconditions: { uid: made.metadata.uid as string, resourceVersion: made.metadata.resourceVersion as string } } });
    expect(getCm('guarded')).toBeUndefined();
  });

  it('propagationPolicy: Background deletes dependents after the owner, Orphan keeps them unowned, Foreground waits for them', async () => {
    const family = (tag: string) => {
      const owner = emu.create(cm(`owner-${tag}`));
      const child = emu.create(cm(`child-${tag}`, { ownerReferences: ownedBy(owner) }));
      return { owner, child };
    };
    family('bg');
    await core.deleteNamespacedConfigMap({ name: 'owner-bg', namespace: NS, propagationPolicy: 'Background' });
    expect(getCm('owner-bg')).toBeUndefined();
    await until('background child collected', () => !getCm('child-bg'));

    family('orphan');
    await core.deleteNamespacedConfigMap({ name: 'owner-orphan', namespace: NS, propagationPolicy: 'Orphan' });
    await until('orphaning owner gone', () => !getCm('owner-orphan'));
    expect(getCm('child-orphan')?.metadata.ownerReferences).toBeUndefined();

    // Foreground: the owner waits (foregroundDeletion finalizer) while a dependent is held by its own finalizer.
    const { child } = family('fg');
    emu.replace({ ...child, metadata: { ...child.metadata, finalizers: ['example.com/hold'] } });
    await core.deleteNamespacedConfigMap({ name: 'owner-fg', namespace: NS, propagationPolicy: 'Foreground' });
    expect(getCm('owner-fg')?.metadata.finalizers).toEqual(['foregroundDeletion']);
    await until('child terminating', () => getCm('child-fg')?.metadata.deletionTimestamp);
    await new Promise((r) => setTimeout(r, 50));
    expect(getCm('owner-fg')?.metadata.finalizers).toEqual(['foregroundDeletion']);
    await core.patchNamespacedConfigMap({ name: 'child-fg', namespace: NS, body: [{ op: 'remove', path: '/metadata/finalizers' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await until('foreground owner gone', () => !getCm('owner-fg'));

    const bad = await errorOf(core.deleteNamespacedConfigMap({ name: 'child-orphan', namespace: NS, propagationPolicy: 'Sideways' }));
    expect(bad.code).toBe(422);
    expect(bad.body.message).toBe('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"');
  });

  it('a Job orphans its pods by default (the server keeps that for compatibility); kubectl asks for Background', async () => {
    const jobs = startJobController(emu, { runMs: 60_000 });
    try {
      const job = (name: string) => ({ metadata: { name }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] } } } });
      await batch.createNamespacedJob({ namespace: NS, body: job('plain') });
      await batch.createNamespacedJob({ namespace: NS, body: job('kubectl-deleted') });
      const podsOf = (name: string) => emu.list('v1', 'Pod', NS).filter((p) => p.metadata.labels?.['job-name'] === name);
      await until('job pods', () => podsOf('plain').length === 1 && podsOf('kubectl-deleted').length === 1);
      await batch.deleteNamespacedJob({ name: 'plain', namespace: NS });
      await until('plain job gone', () => !emu.get('batch/v1', 'Job', NS, 'plain'));
      expect(podsOf('plain')[0]?.metadata.ownerReferences).toBeUndefined();
      expect((await kubectl.run(['delete', 'job', 'kubectl-deleted', '-n', NS, '--wait=false'])).exitCode).toBe(0);
      await until('kubectl-deleted pods terminating', () => podsOf('kubectl-deleted').every((p) => p.metadata.deletionTimestamp));
    } finally {
      jobs.stop();
    }
  });

  it('dryRun=All on a collection DELETE deletes nothing and answers what it would delete', async () => {
    for (const n of ['dry-1', 'dry-2']) emu.create(cm(n, { labels: { batch: 'dry' } }));
    const list = await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'batch=dry', dryRun: 'All' });
    expect(list.code ?? 0).toBe(0);
    expect(getCm('dry-1')).toBeDefined();
    expect(getCm('dry-2')).toBeDefined();
    await core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: 'batch=dry' });
    expect(getCm('dry-1')).toBeUndefined();
  });
});

describe('status codes', () => {
  it('a JSON patch that decodes but does not apply is 422; a malformed one 400; renaming or moving the object 400', async () => {
    emu.create(cm('target'));
    const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    const missing = await errorOf(core.patchNamespacedConfigMap({ name: 'target', namespace: NS, body: [{ op: 'replace', path: '/data/absent', value: 'x' }] }, json));
    expect(missing).toEqual({ code: 422, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422 } });
    const renamed = await errorOf(core.patchNamespacedConfigMap({ name: 'target', namespace: NS, body: [{ op: 'replace', path: '/metadata/name', value: 'other' }] }, json));
    expect(renamed.code).toBe(400);
    expect(renamed.body).toMatchObject({ reason: 'BadRequest', message: 'the name of the object (other) does not match the name on the URL (target)' });
    const moved = await errorOf(core.patchNamespacedConfigMap({ name: 'target', namespace: NS, body: { metadata: { namespace: 'default' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
    expect(moved.body).toMatchObject({ code: 400, message: 'the namespace of the provided object does not match the namespace sent on the request' });
    expect(getCm('target')?.data).toEqual({ k: 'v' });
  });
});

describe('validation', () => {
  it('names must be DNS-1123 subdomains (labels for namespaces and services)', async () => {
    const badCm = await errorOf(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'Bad_Name!' } } }));
    expect(badCm.code).toBe(422);
    expect(badCm.body).toMatchObject({
      reason: 'Invalid',
      message: `ConfigMap "Bad_Name!" is invalid: metadata.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      details: { name: 'Bad_Name!', kind: 'ConfigMap', causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] },
    });
    expect(emu.get('v1', 'ConfigMap', NS, 'Bad_Name!')).toBeUndefined();
    // kubectl sends custom resources as JSON: it shows the server's verdict.
    const { writeFile } = await import('node:fs/promises');
    const file = `${kubectl.dir}/bad-name.json`;
    await writeFile(file, JSON.stringify(rayCluster(NS, 'Bad_Name!')));
    const bad = await kubectl.run(['create', '-f', file, '--validate=false']);
    expect(bad.exitCode).toBe(1);
    expect(String(bad.stderr)).toContain('is invalid: metadata.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain');
    const dotted = await errorOf(core.createNamespace({ body: { metadata: { name: 'team.a' } } }));
    expect(dotted.code).toBe(422);
    expect(String(dotted.body.message)).toContain('a lowercase RFC 1123 label must consist of');
    expect((await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'ok.dotted-name' } } })).metadata?.name).toBe('ok.dotted-name');
  });

  it('ConfigMap data over 1 MiB is 422 Too long; a stored object over etcd’s 1.5 MiB is refused', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const tooLong = await errorOf(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'big' }, data: { a: big, b: 'y' } } }));
    expect(tooLong.code).toBe(422);
    expect(tooLong.body).toMatchObject({ reason: 'Invalid', message: 'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes' });
    expect((await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'big' }, data: { a: big.slice(10) } } })).metadata?.name).toBe('big');
    // Growing it past the limit by update is refused the same way, and leaves it as it was.
    const grown = await errorOf(core.patchNamespacedConfigMap({ name: 'big', namespace: NS, body: { data: { more: 'x'.repeat(64) } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
    expect(grown.code).toBe(422);
    const rc = rayCluster(NS, 'huge');
    (rc.spec as Record<string, unknown>).notes = 'x'.repeat(1_700_000);
    const huge = await errorOf(custom.createNamespacedCustomObject({ group: 'ray.io', version: 'v1', namespace: NS, plural: 'rayclusters', body: rc }));
    expect(huge).toMatchObject({ code: 500, body: { message: 'etcdserver: request is too large' } });
    expect(emu.get('ray.io/v1', 'RayCluster', NS, 'huge')).toBeUndefined();
  });

  it('a Job past activeDeadlineSeconds gets FailureTarget (DeadlineExceeded) and its pod its grace period; Failed comes once the pod is gone', async () => {
    // Kubernetes ≥ 1.31 (kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions):
    // the terminal condition waits for the Job's pods to terminate, here a PID 1 that ignores SIGTERM for its 1 s grace.
    const jobs = startJobController(emu, { runMs: 60_000 });
    const kubelet = startKubelet(emu, { terminationMs: 50, ignoresSigterm: (p) => p.metadata.labels?.['job-name'] === 'slow' });
    try {
      const template = { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox:1.36' }] } };
      await batch.createNamespacedJob({ namespace: NS, body: { metadata: { name: 'slow' }, spec: { activeDeadlineSeconds: 1, template } } });
      const podsOf = () => emu.list('v1', 'Pod', NS).filter((p) => p.metadata.labels?.['job-name'] === 'slow');
      const conditionsOf = () => (emu.get('batch/v1', 'Job', NS, 'slow')?.status?.conditions ?? []) as Array<{ type: string; status: string; reason: string; message: string }>;
      await until('job pod', () => podsOf().length === 1);
      const target = await until('deadline', () => conditionsOf().find((c) => c.type === 'FailureTarget'), 5000);
      const expected = { status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      expect(target).toMatchObject(expected);
      // The pod is Terminating, not gone, and the Job is not Failed yet.
      expect(podsOf()).toHaveLength(1);
      expect(podsOf()[0]?.metadata.deletionGracePeriodSeconds).toBe(1);
      expect(conditionsOf().map((c) => c.type)).toEqual(['FailureTarget']);
      expect(emu.get('batch/v1', 'Job', NS, 'slow')?.status).toMatchObject({ active: 0, terminating: 1 });
      const failed = await until('failed', () => conditionsOf().find((c) => c.type === 'Failed'), 5000);
      expect(failed).toMatchObject(expected);
      expect(podsOf()).toEqual([]);
      expect(emu.get('batch/v1', 'Job', NS, 'slow')?.status).toMatchObject({ active: 0, terminating: 0, failed: 1 });
    } finally {
      jobs.stop();
      kubelet.stop();
    }
  });
});

describe('the call ledger', () => {
  it('names missing, miscounted and unexpected calls, and passes exactly the calls made', async () => {
    const mark = emu.mark();
    await core.readNamespacedConfigMap({ name: 'big', namespace: NS });
    await core.listNamespacedPod({ namespace: NS });
    const get = `get /api/v1/namespaces/${NS}/configmaps/big`;
    const list = `list /api/v1/namespaces/${NS}/pods`;
    expect(() => emu.expectCalls([get, list], { since: mark })).not.toThrow();
    expect(() => emu.expectCalls([get], { since: mark })).toThrow(`unexpected: ${list}`);
    expect(() => emu.expectCalls([get, list, `delete /api/v1/namespaces/${NS}/pods/x`], { since: mark })).toThrow(`missing: delete /api/v1/namespaces/${NS}/pods/x`);
    expect(() => emu.expectCalls([get], { since: mark, ignore: [/^list /] })).not.toThrow();
    expect(callProblems([get, get], [{ call: get, times: 1 }])).toEqual([`made 2 times, expected 1: ${get}`]);
    expect(callProblems([get, get], [{ call: /^get /, times: 'some' }])).toEqual([]);
  });
});
