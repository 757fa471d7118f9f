import { gpuInventory } from '../../kube/survey.js';
import type { PreflightCheck } from '../check.js';

export const gpuNodes: PreflightCheck = {
  id: 'gpu-nodes',
  title: 'GPU nodes',
  phases: [3],
  async run({ kube }) {
    const nodes = await gpuInventory(kube);
    if (nodes.length === 0) {
      return { status: 'fail', detail: 'no node has allocatable nvidia.com/gpu', fix: 'Add a GPU node group (e.g. p5/g6 instances); once the GPU Operator runs there, its device plugin advertises nvidia.com/gpu.' };
    }
    const ready = nodes.filter((n) => n.ready);
    const gpus = ready.reduce((n, g) => n + g.allocatable, 0);
    const free = ready.reduce((n, g) => n + Math.max(0, g.allocatable - g.requested), 0);
    const detail = `${ready.length}/${nodes.length} GPU nodes Ready, ${gpus} allocatable GPUs (${free} free)`;
    if (ready.length === 0) return { status: 'fail', detail, fix: 'The GPU nodes are not Ready: `kubectl describe node` them.' };
    if (ready.length < nodes.length) {
      const down = nodes.filter((n) => !n.ready).map((n) => n.name);
      return { status: 'warn', detail: `${detail}; not Ready: ${down.join(', ')}`, fix: `\`kubectl describe node ${down[0]}\`` };
    }
    return { status: 'pass', detail };
  },
};
