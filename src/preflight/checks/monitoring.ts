import type { PreflightCheck } from '../check.js';
import { workloadReady } from '../workload-ready.js';

export const monitoring: PreflightCheck = {
  id: 'monitoring',
  title: 'Monitoring',
  phases: [5],
  run: ({ kube, config }) => {
    const { prometheus, grafana, loki } = config.platform.workloads;
    return Promise.all([prometheus, grafana, loki].map((name) => workloadReady(kube, config.namespaces.monitoring, name)));
  },
};
