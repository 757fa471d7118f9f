// metrics.k8s.io usage for the world, as metrics-server reports it (cpu in nanocores, memory
// in Ki): a stable share of each node's allocatable and each container's requests, derived
// from names so repeated reads agree. Tests can pin any node's or pod's usage.
import type { ClusterState, MetricsSource, NodeUsage } from '../contract.js';
import type { Node, Pod } from './objects.js';
import { isReady, noise, quantity } from './objects.js';

export interface VlindersMetricsOptions {
  state: ClusterState;
  /** Usage to report for these nodes instead (e.g. { 'vlinders-cpu-1': { memory: '60Gi' } }). */
  nodes?: Record<string, Partial<NodeUsage>>;
  /** Per-container usage for these pods, keyed 'namespace/name'. */
  pods?: Record<string, Array<{ name: string } & NodeUsage>>;
}

const cpu = (cores: number): string => `${Math.round(cores * 1e9)}n`;
const memory = (bytes: number): string => `${Math.round(bytes / 1024)}Ki`;

export function vlindersMetrics(opts: VlindersMetricsOptions): MetricsSource {
  const { state } = opts;
  return {
    node(name) {
      const node = state.get('v1', 'Node', undefined, name) as Node | undefined;
      // metrics-server can't scrape a kubelet that stopped answering: no metrics for it.
      if (!node || !isReady(node.status.conditions)) return undefined;
      const alloc = node.status.allocatable;
      const gpuNode = node.metadata.labels?.['nvidia.com/gpu.present'] === 'true';
      const usage = {
        cpu: cpu(quantity(alloc.cpu) * ((gpuNode ? 0.3 : 0.15) + 0.4 * noise(`cpu/${name}`))),
        memory: memory(quantity(alloc.memory) * ((gpuNode ? 0.35 : 0.25) + 0.4 * noise(`mem/${name}`))),
      };
      return { ...usage, ...opts.nodes?.[name] };
    },
    pod(namespace, name) {
      const pinned = opts.pods?.[`${namespace}/${name}`];
      if (pinned) return pinned;
      const pod = state.get('v1', 'Pod', namespace, name) as Pod | undefined;
      // Only running pods are reported.
      if (pod?.status.phase !== 'Running') return undefined;
      return pod.spec.containers.map((c) => {
        const req = c.resources?.requests ?? {};
        const f = noise(`${namespace}/${name}/${c.name}`);
        return {
          name: c.name,
          cpu: cpu(req.cpu ? quantity(req.cpu) * (0.3 + 0.6 * f) : 0.001 + 0.05 * f),
          memory: memory(req.memory ? quantity(req.memory) * (0.4 + 0.5 * f) : (20 + 80 * f) * 2 ** 20),
        };
      });
    },
  };
}
