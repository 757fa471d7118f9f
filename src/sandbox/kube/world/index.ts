// The simulated Vlinders cluster that lives in the kube-apiserver emulator (test-only).
export { startVlindersWorld, type World, type WorldOptions } from './world.js';
export { seedVlindersCluster, NAMESPACES, type SeedOptions, type SeededCluster } from './seed.js';
export { startKubeRayController, type Controller, type KubeRayControllerOptions } from './kuberay-controller.js';
export { startKubelet, type KubeletOptions } from './kubelet.js';
export { startDisruptionController } from './disruption-controller.js';
export { startJobController, type JobControllerOptions } from './job-controller.js';
export { startDeploymentController, type DeploymentControllerOptions } from './deployment-controller.js';
export { vlindersExec, chainExec, type GpuExecRule, type VlindersExecOptions } from './exec.js';
export { nvidiaSmi, nvidiaSmiError, type NvidiaSmiError, type SmiResult } from './nvidia-smi.js';
export { vlindersLogs, type VlindersLogsOptions } from './logs.js';
export { vlindersMetrics, type VlindersMetricsOptions } from './metrics.js';
export { captureForNode, type CaptureName } from './nodes.js';
export { RAY_API, CLUSTER_LABEL, NODE_TYPE_LABEL, GROUP_LABEL } from './ray.js';
export { capturesDir, readFixture } from './fixtures.js';
