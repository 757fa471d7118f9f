// Every family the world's metrics exporter serves. A new family is one file in this folder
// (see ../family.ts) and one line here.
import type { MetricsFamilySource } from '../family.js';
import { dcgm } from './dcgm.js';
import { kubeStateMetrics } from './kube-state-metrics.js';
import { kubeletVolumes } from './kubelet-volumes.js';
import { nodeExporter } from './node-exporter.js';
import { postgresExporter } from './postgres-exporter.js';
import { vlindersApi } from './vlinders-api.js';
import { vllm } from './vllm.js';

export const WORLD_FAMILIES: readonly MetricsFamilySource[] = [
  kubeStateMetrics,
  kubeletVolumes,
  nodeExporter,
  postgresExporter,
  vlindersApi,
  vllm,
  dcgm,
];
