// node-exporter's root filesystem on every Ready node (an unreachable node's exporter isn't
// scraped). kube-prometheus-stack relabels `instance` to the node's name.
import type { MetricsFamilySource, MetricSample } from '../family.js';
import type { Node } from '../../kube/world/objects.js';
import { isReady, quantity } from '../../kube/world/objects.js';

/** The root disk when the node doesn't report ephemeral-storage capacity. */
const ROOT_DISK_BYTES = 100 * 2 ** 30;

export const nodeExporter: MetricsFamilySource = {
  job: 'node-exporter',
  collect({ state, facts }) {
    const size: MetricSample[] = [];
    const avail: MetricSample[] = [];
    for (const node of state.list('v1', 'Node') as Node[]) {
      if (!isReady(node.status.conditions)) continue;
      const name = node.metadata.name;
      const bytes = quantity((node.status as { capacity?: Record<string, string> }).capacity?.['ephemeral-storage']) || ROOT_DISK_BYTES;
      const labels = { instance: name, device: '/dev/nvme0n1p1', fstype: 'ext4', mountpoint: '/' };
      size.push({ labels, value: bytes });
      avail.push({ labels, value: Math.round(bytes * (1 - (facts.nodeDisks.used[name] ?? facts.nodeDisks.defaultUsed))) });
    }
    return [
      { name: 'node_filesystem_size_bytes', help: 'Filesystem size in bytes.', type: 'gauge', samples: size },
      { name: 'node_filesystem_avail_bytes', help: 'Filesystem space available to non-root users in bytes.', type: 'gauge', samples: avail },
    ];
  },
};
