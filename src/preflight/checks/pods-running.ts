// Checks that something runs somewhere in the cluster, found by a label selector.
import { podCensus } from '../../kube/workloads.js';
import type { CheckResult } from '../check.js';
import type { KubeClient } from '../../kube/client.js';

export async function podsRunning(kube: KubeClient, selector: string, what: string, fix: string): Promise<CheckResult> {
  const c = await podCensus(kube, selector);
  if (c.total === 0) return { status: 'fail', detail: `no ${what} pods (${selector})`, fix };
  const detail = `${c.ready}/${c.total} ${what} pods Running and Ready`;
  if (c.ready === 0) return { status: 'fail', detail: `${detail}: ${c.problems.join('; ')}`, fix };
  if (c.ready < c.total) return { status: 'warn', detail: `${detail}: ${c.problems.join('; ')}`, fix: 'Look at the pods that are not Ready: `/vlinders diagnose pod <name>`.' };
  return { status: 'pass', detail };
}
