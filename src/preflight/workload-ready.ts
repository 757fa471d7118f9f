import type { KubeClient } from '../kube/client.js';
import { findWorkload, isWorkloadReady, workloadText } from '../kube/workloads.js';
import type { CheckResult } from './check.js';

/** ✅ when the named Deployment or StatefulSet has every replica ready. */
export async function workloadReady(kube: KubeClient, namespace: string, name: string): Promise<CheckResult> {
  const w = await findWorkload(kube, namespace, name);
  if (!w) return { status: 'fail', detail: `no Deployment or StatefulSet ${namespace}/${name}`, fix: `Deploy ${name} in ${namespace} (see the runbook's phase for it).` };
  return isWorkloadReady(w) ? { status: 'pass', detail: workloadText(w) } : { status: 'fail', detail: workloadText(w), fix: `Look at its pods: \`kubectl -n ${namespace} get pods -l app.kubernetes.io/name=${name}\`.` };
}
