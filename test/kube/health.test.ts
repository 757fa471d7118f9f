// The health rules on real captured objects (fixtures/k8s), and on variants derived from them.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isPodServing, nodeFindings, parseQuantity, podFinding, podGpus, pvcFinding, workloadFinding } from '../../src/kube/health.js';
import { readCaptured } from '../fixtures/captured.js';

const crashLoop = parse(readCaptured('k8s/holmesgpt_pod_crashloopbackoff_kubectl_get_yaml.body.yaml')) as V1Pod;
const running = (JSON.parse(readCaptured('k8s/PodList_running_minikube_kuard.json')) as { items: V1Pod[] }).items;

describe('pods', () => {
  it('a real CrashLoopBackOff pod is named with its restarts and last exit code', () => {
    expect(podFinding(crashLoop)).toEqual({
      severity: 'fail',
      subject: 'pod default/frontend-service',
      reason: expect.stringMatching(/^CrashLoopBackOff in container stress, 7 restarts; last exit code 255 \(Error\): back-off 5m0s/),
    });
  });

  it('a real Running, Ready pod needs no attention', () => {
    expect(running.length).toBeGreaterThan(0);
    for (const pod of running) expect(podFinding(pod)).toBeUndefined();
  });

  it('a Ready pod being deleted is no longer serving, though its Ready condition still says True', () => {
    const pod = running[0] as V1Pod;
    expect(isPodServing(pod)).toBe(true);
    const terminating = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date() } };
    expect(terminating.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(isPodServing(terminating)).toBe(false);
    expect(podFinding(terminating)).toMatchObject({ severity: 'warn', reason: 'Terminating' });
  });

  it("a Pending pod carries the scheduler's message (derived: the captured describe's event)", () => {
    const describe = readCaptured('k8s/holmesgpt_kubectl_describe_pending_insufficient_gpu.body.txt');
    const message = /default-scheduler\s+(0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\.[^\n]*)/.exec(describe)?.[1] ?? '';
    expect(message).toContain('Insufficient nvidia.com/gpu');
    const pod: V1Pod = {
      metadata: { name: 'user-profile-resources-659d4dd659-cq4kq', namespace: 'default' },
      spec: { containers: [{ name: 'profile-getter', resources: { limits: { 'nvidia.com/gpu': '5' }, requests: { 'nvidia.com/gpu': '5' } } }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] },
    };
    expect(podFinding(pod)?.reason).toBe(`Pending: Unschedulable: ${message}`);
    expect(podGpus(pod)).toBe(5);
  });

  it('ImagePullBackOff while Pending is a failure', () => {
    const pod: V1Pod = {
      metadata: { name: 'api', namespace: 'ns' },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'api', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x:bad"' } } }] },
    };
    expect(podFinding(pod)).toMatchObject({ severity: 'fail', reason: 'Pending: ImagePullBackOff (Back-off pulling image "x:bad")' });
  });
});

describe('nodes, PVCs and workloads', () => {
  const node = (conditions: Array<{ type: string; status: string; reason?: string; message?: string }>, extra: Partial<V1Node> = {}): V1Node => ({ metadata: { name: 'gpu-1' }, status: { conditions }, ...extra });

  it('NotReady and pressure conditions are named', () => {
    expect(nodeFindings(node([{ type: 'Ready', status: 'True' }]))).toEqual([]);
    expect(nodeFindings(node([{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }]))).toEqual([
      { severity: 'fail', subject: 'node gpu-1', reason: 'NotReady (NodeStatusUnknown: Kubelet stopped posting node status.)' },
    ]);
    expect(nodeFindings(node([{ type: 'Ready', status: 'True' }, { type: 'DiskPressure', status: 'True', message: 'kubelet has disk pressure' }]))[0]?.reason).toBe('DiskPressure: kubelet has disk pressure');
  });

  it('an unbound PVC and a short workload are named', () => {
    expect(pvcFinding({ metadata: { name: 'models', namespace: 'vlinders-inference' }, spec: { storageClassName: 'gp3' }, status: { phase: 'Pending' } })?.reason).toBe('Pending, not Bound (storage class gp3)');
    expect(pvcFinding({ status: { phase: 'Bound' } })).toBeUndefined();
    expect(workloadFinding('deployment', { metadata: { name: 'api', namespace: 'p' }, spec: { replicas: 3, selector: {}, template: {} }, status: { readyReplicas: 2 } })?.reason).toBe('2/3 replicas ready');
  });

  it('parses quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('16Gi')).toBe(16 * 2 ** 30);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1536Ki')).toBe(1536 * 1024);
    expect(parseQuantity('12345678n')).toBeCloseTo(0.012345678);
    expect(parseQuantity('garbage')).toBe(0);
  });
});
