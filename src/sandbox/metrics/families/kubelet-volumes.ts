// The kubelet's volume stats (job kubelet, as kube-prometheus-stack scrapes /metrics), for
// every Bound PVC: capacity from its status, used from the world's facts.
import type { MetricsFamilySource, MetricSample } from '../family.js';
import { quantity } from '../../kube/world/objects.js';

export const kubeletVolumes: MetricsFamilySource = {
  job: 'kubelet',
  collect({ state, facts }) {
    const capacity: MetricSample[] = [];
    const used: MetricSample[] = [];
    const available: MetricSample[] = [];
    for (const pvc of state.list('v1', 'PersistentVolumeClaim')) {
      const status = pvc.status as { phase?: string; capacity?: { storage?: string } } | undefined;
      // Only a mounted volume has stats; an unbound claim has none.
      if (status?.phase !== 'Bound') continue;
      const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
      const bytes = quantity(status.capacity?.storage);
      const usedBytes = Math.round(bytes * (facts.pvcs.used[key] ?? facts.pvcs.defaultUsed));
      const labels = { namespace: pvc.metadata.namespace ?? '', persistentvolumeclaim: pvc.metadata.name };
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
