// Nodes as EKS and the NVIDIA GPU Operator label them: CPU nodes, and GPU nodes carrying the
// GPU-feature-discovery labels and `nvidia.com/gpu` capacity. The GPU model of a node also
// decides which nvidia-smi capture its pods print (see captureForNode).
import type { Condition, Node, Taint } from './objects.js';
import { GPU, hex, timestamp } from './objects.js';

/** The nvidia-smi capture sets in test/fixtures/captured/nvidia-smi. */
export type CaptureName = 'h100' | 'h200' | 'mig';

interface GpuModel {
  product: string;
  memoryMiB: number; // memory.total in the capture
  /** AWS instance types by GPU count: the 1-GPU size, and the 8-GPU one for anything else. */
  instance: [single: string, multi: string];
  extraLabels?: Record<string, string>;
  extraCapacity?: Record<string, string>;
}

// Figures read off the captures (driver 590.48.01, CUDA 13.1, compute capability 9.0).
const MODELS: Record<CaptureName, GpuModel> = {
  h100: { product: 'NVIDIA-H100-80GB-HBM3', memoryMiB: 81559, instance: ['p5.4xlarge', 'p5.48xlarge'] },
  h200: { product: 'NVIDIA-H200', memoryMiB: 143771, instance: ['p5en.48xlarge', 'p5en.48xlarge'] },
  // The MIG capture is an H100 in the all-balanced layout (1x 3g.40gb, 1x 2g.20gb, 2x 1g.10gb),
  // exposed with the mixed strategy. The world still advertises whole `nvidia.com/gpu` too, so
  // Ray workers (which ask for one GPU) can land there: a simplification.
  mig: {
    product: 'NVIDIA-H100-80GB-HBM3',
    memoryMiB: 81559,
    instance: ['p5.4xlarge', 'p5.48xlarge'],
    extraLabels: { 'nvidia.com/mig.capable': 'true', 'nvidia.com/mig.strategy': 'mixed', 'nvidia.com/mig.config': 'all-balanced', 'nvidia.com/mig.config.state': 'success' },
    extraCapacity: { 'nvidia.com/mig-1g.10gb': '2', 'nvidia.com/mig-2g.20gb': '1', 'nvidia.com/mig-3g.40gb': '1' },
  },
};

/** Which capture set a node's pods print, read back from its labels. */
export function captureForNode(labels: Record<string, string> | undefined): CaptureName | undefined {
  if (!labels || labels['nvidia.com/gpu.present'] !== 'true') return undefined;
  if (labels['nvidia.com/mig.config'] === 'all-balanced') return 'mig';
  return labels['nvidia.com/gpu.product'] === MODELS.h200.product ? 'h200' : 'h100';
}

export interface NodeOptions {
  name: string;
  ip: string;
  zone: string;
  /** GPU nodes: the model and how many GPUs. */
  gpu?: { model: CaptureName; count: number };
  /** The node stopped posting status (kubelet down): conditions Unknown, unreachable taints. */
  notReady?: boolean;
}

const REGION = 'eu-west-1';
const KUBELET = 'v1.34.2-eks-b3126f4';

/** Capacity and what the kubelet keeps back (EKS' reservation for its max pods). */
function sizing(instance: string): { cpu: number; memGi: number; pods: number } {
  if (instance.endsWith('.48xlarge')) return { cpu: 192, memGi: 2048, pods: 100 };
  if (instance === 'p5.4xlarge') return { cpu: 16, memGi: 256, pods: 110 };
  return { cpu: 16, memGi: 64, pods: 234 }; // m6i.4xlarge
}

export function buildNode(o: NodeOptions): Node {
  const model = o.gpu && MODELS[o.gpu.model];
  const instance = model && o.gpu ? model.instance[o.gpu.count === 1 ? 0 : 1] : 'm6i.4xlarge';
  const size = sizing(instance);
  const capKi = Math.round(size.memGi * 1024 * 1024 * 0.97);
  const capacity: Record<string, string> = { cpu: String(size.cpu), 'ephemeral-storage': '524275692Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: `${capKi}Ki`, pods: String(size.pods) };
  const allocatable: Record<string, string> = { ...capacity, cpu: `${size.cpu * 1000 - 110 - size.cpu * 5}m`, 'ephemeral-storage': '482098735124', memory: `${capKi - 1_500_000}Ki` };
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/instance-type': instance,
    'beta.kubernetes.io/os': 'linux',
    'eks.amazonaws.com/capacityType': 'ON_DEMAND',
    'eks.amazonaws.com/nodegroup': o.gpu ? `gpu-${o.gpu.model}` : 'cpu-general',
    'failure-domain.beta.kubernetes.io/region': REGION,
    'failure-domain.beta.kubernetes.io/zone': o.zone,
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': o.name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': instance,
    'topology.kubernetes.io/region': REGION,
    'topology.kubernetes.io/zone': o.zone,
  };
  const taints: Taint[] = [];
  if (model && o.gpu) {
    Object.assign(labels, {
      'nvidia.com/cuda.driver-version.full': '590.48.01',
      'nvidia.com/cuda.driver.major': '590',
      'nvidia.com/cuda.driver.minor': '48',
      'nvidia.com/cuda.driver.rev': '01',
      'nvidia.com/cuda.runtime-version.full': '13.1',
      'nvidia.com/cuda.runtime.major': '13',
      'nvidia.com/cuda.runtime.minor': '1',
      'nvidia.com/gfd.timestamp': String(Math.floor(Date.now() / 1000)),
      'nvidia.com/gpu.compute.major': '9',
      'nvidia.com/gpu.compute.minor': '0',
      'nvidia.com/gpu.count': String(o.gpu.count),
      'nvidia.com/gpu.deploy.device-plugin': 'true',
      'nvidia.com/gpu.deploy.driver': 'pre-installed',
      'nvidia.com/gpu.family': 'hopper',
      'nvidia.com/gpu.machine': instance,
      'nvidia.com/gpu.memory': String(model.memoryMiB),
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.product': model.product,
      'nvidia.com/gpu.replicas': '1',
      'nvidia.com/gpu.sharing-strategy': 'none',
      'nvidia.com/mig.capable': 'true',
      'nvidia.com/mig.strategy': 'none',
      'nvidia.com/mps.capable': 'false',
      ...model.extraLabels,
    });
    capacity[GPU] = allocatable[GPU] = String(o.gpu.count);
    Object.assign(capacity, model.extraCapacity);
    Object.assign(allocatable, model.extraCapacity);
    taints.push({ key: GPU, value: 'present', effect: 'NoSchedule' });
  }
  const now = timestamp();
  if (o.notReady) taints.push({ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: now }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: now });
  const hostname = `ip-${o.ip.replaceAll('.', '-')}.${REGION}.compute.internal`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: o.name, labels, annotations: { 'alpha.kubernetes.io/provided-node-ip': o.ip, 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } },
    spec: { providerID: `aws:///${o.zone}/i-0${hex(o.name, 16)}`, ...(taints.length ? { taints } : {}) },
    status: {
      capacity,
      allocatable,
      conditions: nodeConditions(now, o.notReady ?? false),
      addresses: [
        { type: 'InternalIP', address: o.ip },
        { type: 'InternalDNS', address: hostname },
        { type: 'Hostname', address: hostname },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: uuid(hex(`boot/${o.name}`, 32)),
        containerRuntimeVersion: 'containerd://2.1.4',
        kernelVersion: '6.12.46-66.121.amzn2023.x86_64',
        kubeProxyVersion: '',
        kubeletVersion: KUBELET,
        machineID: `ec2${hex(`machine/${o.name}`, 29)}`,
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2023.9.20251110',
        systemUUID: uuid(`ec2${hex(`machine/${o.name}`, 29)}`),
      },
    },
  };
}

const uuid = (h: string): string => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;

const KUBELET_CONDITIONS: Array<[type: string, reason: string, message: string]> = [
  ['MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
];

function nodeConditions(now: string, notReady: boolean): Condition[] {
  const beat = { lastHeartbeatTime: now, lastTransitionTime: now };
  // The node lifecycle controller sets every kubelet condition to Unknown when heartbeats stop.
  const lost = { status: 'Unknown' as const, reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', ...beat };
  return [
    { type: 'NetworkUnavailable', status: 'False', reason: 'CalicoIsUp', message: 'Calico is running on this node', ...beat },
    ...KUBELET_CONDITIONS.map(([type, reason, message]): Condition => (notReady ? { type, ...lost } : { type, status: 'False', reason, message, ...beat })),
    notReady ? { type: 'Ready', ...lost } : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', ...beat },
  ];
}
