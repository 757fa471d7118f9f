// The NVIDIA DCGM exporter's per-GPU series on every Ready GPU node (its DaemonSet runs there;
// an unreachable node is not scraped), labelled as dcgm-exporter labels them: gpu, UUID,
// pci_bus_id, device, modelName, Hostname (the node: the GPU operator sets NODE_NAME) and
// DCGM_FI_DRIVER_VERSION. Fields and types as its counters CSVs declare them
// (etc/default-counters.csv, with the ECC and throttle fields enabled): utilization,
// temperature, the last XID (a gauge holding the code), row remapping, double-bit ECC counters
// and NVML's clock throttle reasons bit mask.
import type { MetricFamily, MetricsFamilySource, MetricSample } from '../family.js';
import type { WorldFacts } from '../facts.js';
import type { Node } from '../../kube/world/objects.js';
import { GPU, hex, isReady, quantity } from '../../kube/world/objects.js';

const DRIVER_VERSION = '550.90.07';

export const dcgm: MetricsFamilySource = {
  job: 'dcgm-exporter',
  collect({ state, facts }) {
    const fields = {
      DCGM_FI_DEV_GPU_UTIL: [] as MetricSample[],
      DCGM_FI_DEV_GPU_TEMP: [] as MetricSample[],
      DCGM_FI_DEV_XID_ERRORS: [] as MetricSample[],
      DCGM_FI_DEV_ROW_REMAP_FAILURE: [] as MetricSample[],
      DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS: [] as MetricSample[],
      DCGM_FI_DEV_ECC_DBE_VOL_TOTAL: [] as MetricSample[],
      DCGM_FI_DEV_ECC_DBE_AGG_TOTAL: [] as MetricSample[],
      DCGM_FI_DEV_CLOCK_THROTTLE_REASONS: [] as MetricSample[],
    };
    for (const node of state.list('v1', 'Node') as Node[]) {
      if (node.metadata.labels?.['nvidia.com/gpu.present'] !== 'true' || !isReady(node.status.conditions)) continue;
      const host = node.metadata.name;
      for (let gpu = 0; gpu < quantity(node.status.capacity?.[GPU]); gpu++) {
        const labels = {
          gpu: String(gpu),
          UUID: `GPU-${hex(`${host}/${gpu}`, 8)}-${hex(`${host}/${gpu}/uuid`, 4)}`,
          pci_bus_id: `00000000:${(0x18 + gpu * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`,
          device: `nvidia${gpu}`,
          modelName: node.metadata.labels['nvidia.com/gpu.product'] ?? 'NVIDIA H100 80GB HBM3',
          Hostname: host,
          DCGM_FI_DRIVER_VERSION: DRIVER_VERSION,
        };
        const at = <T extends { node: string; gpu: number }>(list: readonly T[]) => list.find((x) => x.node === host && x.gpu === gpu);
        const reading = at(facts.gpus.readings) ?? facts.gpus.default;
        const health: Partial<WorldFacts['gpus']['health'][number]> = at(facts.gpus.health) ?? {};
        fields.DCGM_FI_DEV_GPU_UTIL.push({ labels, value: reading.utilizationPercent });
        fields.DCGM_FI_DEV_GPU_TEMP.push({ labels, value: reading.temperatureCelsius });
        fields.DCGM_FI_DEV_XID_ERRORS.push({ labels, value: at(facts.gpus.xids)?.code ?? 0 });
        fields.DCGM_FI_DEV_ROW_REMAP_FAILURE.push({ labels, value: health.rowRemapFailure ? 1 : 0 });
        fields.DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS.push({ labels, value: health.uncorrectableRemappedRows ?? 0 });
        fields.DCGM_FI_DEV_ECC_DBE_VOL_TOTAL.push({ labels, value: health.dbeVolatile ?? 0 });
        fields.DCGM_FI_DEV_ECC_DBE_AGG_TOTAL.push({ labels, value: health.dbeAggregate ?? 0 });
        fields.DCGM_FI_DEV_CLOCK_THROTTLE_REASONS.push({ labels, value: health.throttleReasons ?? 0 });
      }
    }
    // dcgm-exporter's counters keep the field's name (no _total), which exposition.ts's counters
    // can't spell; they are served untyped-as-gauge under the exact name, which is all a query sees.
    const family = (name: keyof typeof fields, help: string): MetricFamily => ({ name, help, type: 'gauge', samples: fields[name] });
    return [
      family('DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).'),
      family('DCGM_FI_DEV_GPU_TEMP', 'GPU temperature (in C).'),
      family('DCGM_FI_DEV_XID_ERRORS', 'Value of the last XID error encountered.'),
      family('DCGM_FI_DEV_ROW_REMAP_FAILURE', 'Whether remapping of rows has failed'),
      family('DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', 'Number of remapped rows for uncorrectable errors'),
      family('DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', 'Total number of double-bit volatile ECC errors.'),
      family('DCGM_FI_DEV_ECC_DBE_AGG_TOTAL', 'Total number of double-bit persistent ECC errors.'),
      family('DCGM_FI_DEV_CLOCK_THROTTLE_REASONS', 'Current clock throttle reasons (bit mask).'),
    ];
  },
};
