// kube-state-metrics' node and PVC series, from the cluster's objects: allocatable resources
// (resource names sanitized as ksm does: nvidia.com/gpu → nvidia_com_gpu), the Ready condition,
// and each PVC's requested storage.
import type { MetricsFamilySource, MetricSample } from '../family.js';
import type { Node } from '../../kube/world/objects.js';
import { quantity } from '../../kube/world/objects.js';

const UNITS: Record<string, string> = { cpu: 'core', memory: 'byte', 'ephemeral-storage': 'byte', pods: 'integer' };
const sanitize = (resource: string) => resource.replace(/[^a-zA-Z0-9_]/g, '_');

export const kubeStateMetrics: MetricsFamilySource = {
  job: 'kube-state-metrics',
  collect({ state }) {
    const nodes = state.list('v1', 'Node') as Node[];
    const allocatable: MetricSample[] = [];
    const condition: MetricSample[] = [];
    for (const n of nodes) {
      const node = n.metadata.name;
      for (const [resource, amount] of Object.entries(n.status.allocatable ?? {}))
        allocatable.push({ labels: { node, resource: sanitize(resource), unit: UNITS[resource] ?? 'integer' }, value: quantity(amount) });
      // The Ready condition only: the digests and rules read no other, and history stays small.
      for (const c of (n.status.conditions ?? []).filter((c) => c.type === 'Ready'))
        for (const status of ['true', 'false', 'unknown']) condition.push({ labels: { node, condition: c.type, status }, value: c.status.toLowerCase() === status ? 1 : 0 });
    }
    const claims = state.list('v1', 'PersistentVolumeClaim').map((pvc) => ({
      labels: { namespace: pvc.metadata.namespace ?? '', persistentvolumeclaim: pvc.metadata.name },
      value: quantity((pvc.spec as { resources?: { requests?: { storage?: string } } } | undefined)?.resources?.requests?.storage),
    }));
    return [
      { name: 'kube_node_status_allocatable', help: 'The allocatable for different resources of a node that are available for scheduling.', type: 'gauge', samples: allocatable },
      { name: 'kube_node_status_condition', help: 'The condition of a cluster node.', type: 'gauge', samples: condition },
      { name: 'kube_persistentvolumeclaim_resource_requests_storage_bytes', help: 'The capacity of storage requested by the persistent volume claim.', type: 'gauge', samples: claims },
    ];
  },
};
