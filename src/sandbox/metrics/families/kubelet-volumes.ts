// The kubelet's volume stats (job kubelet, as kube-prometheus-stack scrapes /metrics): each
// kubelet reports the Bound claims its Running pods mount, so a claim mounted on two nodes
// (ReadWriteMany) has a series from each, as it briefly does from two kubelets when its pod
// moves. Capacity comes from the claim's status, used from the world's facts.
import type { MetricsFamilySource, MetricSample } from '../family.js';
import type { Node, Pod } from '../../kube/world/objects.js';
import { nodeIP, quantity } from '../../kube/world/objects.js';

interface ClaimStatus {
  capacity?: { storage?: string };
}

export const kubeletVolumes: MetricsFamilySource = {
  job: 'kubelet',
  collect({ state, facts }) {
    const capacity: MetricSample[] = [];
    const used: MetricSample[] = [];
    const available: MetricSample[] = [];
    const mounted = new Set<string>();
    for (const pod of state.list('v1', 'Pod') as Pod[]) {
      const node = pod.spec.nodeName;
      if (!node || pod.status.phase !== 'Running') continue;
      for (const v of (pod.spec as { volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }> }).volumes ?? [])
        if (v.persistentVolumeClaim) mounted.add(JSON.stringify([node, pod.metadata.namespace ?? '', v.persistentVolumeClaim.claimName]));
    }
    for (const entry of mounted) {
      const [node, namespace, claim] = JSON.parse(entry) as [string, string, string];
      // A Running pod's claims are bound (a pod with an unbound claim stays Pending).
      const status = state.get('v1', 'PersistentVolumeClaim', namespace, claim)?.status as ClaimStatus | undefined;
      const bytes = quantity(status?.capacity?.storage);
      const usedBytes = Math.round(bytes * (facts.pvcs.used[`${namespace}/${claim}`] ?? facts.pvcs.defaultUsed));
      const host = state.get('v1', 'Node', undefined, node) as Node | undefined;
      const labels = { instance: `${host ? nodeIP(host) : node}:10250`, node, namespace, persistentvolumeclaim: claim };
      capacity.push({ labels, value: bytes });
      used.push({ labels, value: usedBytes });
      available.push({ labels, value: bytes - usedBytes });
    }
    return [
      { name: 'kubelet_volume_stats_capacity_bytes', help: 'Capacity in bytes of the volume', type: 'gauge', samples: capacity },
      { name: 'kubelet_volume_stats_used_bytes', help: 'Number of used bytes in the volume', type: 'gauge', samples: used },
      { name: 'kubelet_volume_stats_available_bytes', help: 'Number of available bytes in the volume', type: 'gauge', samples: available },
    ];
  },
};
