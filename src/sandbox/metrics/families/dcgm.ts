// The NVIDIA DCGM exporter's per-GPU gauges on every Ready GPU node (its DaemonSet runs there;
// an unreachable node is not scraped): utilization, temperature and the last XID, labelled as
// dcgm-exporter labels them (gpu, UUID, device, modelName, Hostname). wt/slo extends this file
// with row remapping, ECC and throttle reasons from the same facts.
import type { MetricsFamilySource, MetricSample } from '../family.js';
import type { Node } from '../../kube/world/objects.js';
import { GPU, hex, isReady, quantity } from '../../kube/world/objects.js';

export const dcgm: MetricsFamilySource = {
  job: 'dcgm-exporter',
  collect({ state, facts }) {
    const util: MetricSample[] = [];
    const temp: MetricSample[] = [];
    const xid: MetricSample[] = [];
    for (const node of state.list('v1', 'Node') as Node[]) {
      if (node.metadata.labels?.['nvidia.com/gpu.present'] !== 'true' || !isReady(node.status.conditions)) continue;
      const host = node.metadata.name;
      for (let gpu = 0; gpu < quantity(node.status.capacity?.[GPU]); gpu++) {
        const labels = { gpu: String(gpu), UUID: `GPU-${hex(`${host}/${gpu}`, 8)}-${hex(`${host}/${gpu}/uuid`, 4)}`, device: `nvidia${gpu}`, modelName: node.metadata.labels['nvidia.com/gpu.product'] ?? 'NVIDIA H100 80GB HBM3', Hostname: host };
        const reading = facts.gpus.readings.find((r) => r.node === host && r.gpu === gpu) ?? facts.gpus.default;
        util.push({ labels, value: reading.utilizationPercent });
        temp.push({ labels, value: reading.temperatureCelsius });
        xid.push({ labels, value: facts.gpus.xids.find((x) => x.node === host && x.gpu === gpu)?.code ?? 0 });
      }
    }
    return [
      { name: 'DCGM_FI_DEV_GPU_UTIL', help: 'GPU utilization (in %).', type: 'gauge', samples: util },
      { name: 'DCGM_FI_DEV_GPU_TEMP', help: 'GPU temperature (in C).', type: 'gauge', samples: temp },
      { name: 'DCGM_FI_DEV_XID_ERRORS', help: 'Value of the last XID error encountered.', type: 'gauge', samples: xid },
    ];
  },
};
