// The kube-apiserver emulator: test-only, never imported by the product path.
export type * from './contract.js';
export { KubeApiEmulator, type EmulatorOptions, type Fault, type KubeconfigOptions } from './emulator.js';
export { type CallCheckOptions, type ExpectedCall, type RecordedRequest, callProblems } from './calls.js';
export { ApiError, type Status } from './status.js';
export { podSummary, humanDuration } from './table.js';
export { RESOURCES, type ResourceType } from './resources.js';
