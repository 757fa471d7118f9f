import type { PreflightCheck } from '../check.js';
import { podsRunning } from './pods-running.js';

export const gpuOperator: PreflightCheck = {
  id: 'gpu-operator',
  title: 'NVIDIA GPU Operator',
  phases: [3],
  run: ({ kube, config }) =>
    podsRunning(kube, config.platform.gpuOperatorSelector, 'GPU Operator', 'Install it: `helm install gpu-operator nvidia/gpu-operator -n gpu-operator --create-namespace` (https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/).'),
};
