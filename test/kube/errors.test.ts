// What the operator reads when the apiserver says no: each 409, 422, 400 and 413 the emulator
// answers as the real server does, put in words that say what really happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_PATCH, MERGE_PATCH, type KubeClient } from '../../src/kube/client.js';
import { evictPod } from '../../src/kube/drain.js';
import { KubeTooManyRequestsError } from '../../src/kube/errors.js';
import type { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { clientFor, emulatorWithNamespace } from './kube-client.js';

const NS = 'vlinders-ops';
let emu: KubeApiEmulator;
let kube: KubeClient;

beforeAll(async () => {
  emu = await emulatorWithNamespace(NS);
  kube = clientFor(emu);
  emu.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: NS }, data: { a: '1' } });
});
afterAll(() => emu.close());

const messageOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the call to fail');
};

const call = (verb: 'create' | 'update' | 'patch' | 'delete', name: string) => ({ verb, resource: 'configmaps', namespace: NS, name, cluster: 'test' });

describe('kubeError', () => {
  it('429: an eviction a PodDisruptionBudget holds back carries the budget’s cause and the suggested wait; a throttled call carries neither', async () => {
    emu.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'llm-0', namespace: NS, labels: { app: 'llm' } }, spec: { nodeName: 'gpu-1', containers: [{ name: 'x', image: 'busybox' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    // No disruption controller here: the budget is never processed, and the apiserver says so.
    emu.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'llm', namespace: NS }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'llm' } } } });
    const held = await evictPod(kube, { metadata: { name: 'llm-0', namespace: NS } }).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(KubeTooManyRequestsError);
    expect((held as KubeTooManyRequestsError).budgetCauses).toEqual(['The disruption budget llm is still being processed by the server.']);
    expect((held as KubeTooManyRequestsError).retryAfterSeconds).toBe(10);
    expect((held as Error).message).toBe(
      "The API refused to create pods/eviction/llm-0 in namespace vlinders-ops on cluster test for now (429 TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget. The disruption budget llm is still being processed by the server.",
    );
    emu.failNext({ path: /\/configmaps\/settings$/ }, { status: 429, message: 'Too many requests, please try again later.' });
    const throttled = await kube.call(call('patch', 'settings'), () => kube.core.readNamespacedConfigMap({ name: 'settings', namespace: NS })).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(KubeTooManyRequestsError);
    expect((throttled as KubeTooManyRequestsError).budgetCauses).toEqual([]);
  });

  it('409: a taken name, a failed precondition and a racing write are three different things', async () => {
    const taken = await messageOf(kube.call(call('create', 'settings'), () => kube.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings' } } })));
    expect(taken).toBe('configmaps/settings already exists in namespace vlinders-ops (409 AlreadyExists); nothing was created.');
    const replaced = await messageOf(kube.call(call('delete', 'settings'), () => kube.core.deleteNamespacedConfigMap({ name: 'settings', namespace: NS, body: { preconditions: { uid: 'an-older-uid' } } })));
    expect(replaced).toBe('configmaps/settings is no longer the object that was checked (409 precondition failed: it was replaced or changed); nothing was deleted. Look again and retry.');
    const current = await kube.core.readNamespacedConfigMap({ name: 'settings', namespace: NS });
    await kube.core.replaceNamespacedConfigMap({ name: 'settings', namespace: NS, body: { ...current, data: { a: '2' } } });
    const raced = await messageOf(kube.call(call('update', 'settings'), () => kube.core.replaceNamespacedConfigMap({ name: 'settings', namespace: NS, body: { ...current, data: { a: '3' } } })));
    expect(raced).toBe('Someone else changed configmaps/settings at the same time (409 Conflict); nothing was changed. Look again and retry.');
  });

  it("422: a JSON patch whose guard no longer holds is a change since reading; an invalid object names its fields", async () => {
    const guard = await messageOf(
      kube.call(call('patch', 'settings'), () => kube.core.patchNamespacedConfigMap({ name: 'settings', namespace: NS, body: [{ op: 'test', path: '/data/a', value: '1' }, { op: 'replace', path: '/data/a', value: '9' }] }, JSON_PATCH)),
    );
    expect(guard).toBe('The API refused to patch configmaps/settings in namespace vlinders-ops on cluster test (422 Invalid): it changed since it was read, so the patch\'s checks no longer hold; nothing was changed. Look again and retry.');
    const invalid = await messageOf(kube.call(call('create', 'Bad_Name!'), () => kube.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'Bad_Name!' } } })));
    expect(invalid).toMatch(/^The API refused to create configmaps\/Bad_Name! in namespace vlinders-ops on cluster test as invalid \(422 Invalid\): metadata\.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain .*\. Nothing was changed\.$/);
    const tooBig = await messageOf(kube.call(call('create', 'big'), () => kube.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'big' }, data: { v: 'x'.repeat(1024 * 1024 + 1) } } })));
    expect(tooBig).toBe('The API refused to create configmaps/big in namespace vlinders-ops on cluster test as invalid (422 Invalid): []: Too long: may not be more than 1048576 bytes. Nothing was changed.');
  });

  it('400: a malformed request is said to be our bug, not the cluster’s state', async () => {
    const renamed = await messageOf(kube.call(call('patch', 'settings'), () => kube.core.patchNamespacedConfigMap({ name: 'settings', namespace: NS, body: { metadata: { name: 'other' } } }, MERGE_PATCH)));
    expect(renamed).toBe(
      'The API rejected the request to patch configmaps/settings in namespace vlinders-ops on cluster test as malformed (400 BadRequest): the name of the object (other) does not match the name on the URL (settings). Nothing was changed; this is a bug in vlinders-ops, please report it.',
    );
  });

  it('413: a body over the apiserver limit is too large', async () => {
    const huge = await messageOf(kube.call(call('create', 'huge'), () => kube.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'huge' }, data: { v: 'x'.repeat(3 * 1024 * 1024 + 10) } } })));
    expect(huge).toBe('The API refused to create configmaps/huge in namespace vlinders-ops on cluster test: the object is too large (413 RequestEntityTooLarge): Request entity too large: limit is 3145728. Nothing was changed.');
  });
});
