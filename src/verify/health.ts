// verify's health pass: every pod, Service endpoints, PVCs and GPU nodes of the platform,
// as checklist items (the same ✅ ⚠️ ❌ lines as preflight).
import type { Finding } from '../kube/health.js';
import { podFinding } from '../kube/health.js';
import { surveyCluster } from '../kube/survey.js';
import type { CheckResult, PreflightCheck } from '../preflight/check.js';
import { vlindersNamespaces } from '../config/schema.js';

const SHOWN = 5;

/** One health line from the findings of one kind of object. */
function fromFindings(label: string, findings: Finding[], okText: string, fix: string): CheckResult {
  if (findings.length === 0) return { status: 'pass', detail: `${label}: ${okText}` };
  const status = findings.some((f) => f.severity === 'fail') ? 'fail' : 'warn';
  const listed = findings.slice(0, SHOWN).map((f) => `${f.subject}: ${f.reason}`);
  return { status, detail: `${label}: ${findings.length} need attention: ${listed.join('; ')}${findings.length > SHOWN ? '; …' : ''}`, fix };
}

export const clusterHealth: PreflightCheck = {
  id: 'health',
  title: 'Health',
  phases: [],
  async run({ kube, config }) {
    const survey = await surveyCluster(kube, vlindersNamespaces(config.namespaces));
    const of = (...prefixes: string[]) => survey.findings.filter((f) => prefixes.some((p) => f.subject.startsWith(p)));
    const gpuDown = survey.nodes.gpu.filter((g) => !g.ready);
    return [
      fromFindings('Pods', of('pod '), `${survey.pods.inNamespaces} Running and Ready`, 'Look at each with `/vlinders diagnose pod <name>`.'),
      fromFindings('Workloads', of('deployment ', 'statefulset '), `${survey.workloads} with every replica ready`, 'A workload short of replicas: look at its pods.'),
      fromFindings('PVCs', of('pvc '), `${survey.pvcs} Bound`, 'An unbound PVC: its StorageClass must exist (`/vlinders preflight --phase 1`).'),
      survey.nodes.gpu.length === 0
        ? { status: 'fail', detail: 'GPU nodes: none', fix: 'No node has allocatable nvidia.com/gpu: `/vlinders preflight --phase 3`.' }
        : gpuDown.length === 0
          ? { status: 'pass', detail: `GPU nodes: ${survey.nodes.gpu.length} Ready` }
          : { status: 'fail', detail: `GPU nodes: ${gpuDown.length}/${survey.nodes.gpu.length} not Ready (${gpuDown.map((g) => g.name).join(', ')})`, fix: `\`kubectl describe node ${gpuDown[0]?.name}\`` },
    ];
  },
};

/** Each Service with a selector must select at least one Ready pod: that is what its endpoints are. */
export const serviceEndpoints: PreflightCheck = {
  id: 'service-endpoints',
  title: 'Service endpoints',
  phases: [],
  async run({ kube, config }) {
    const empty: string[] = [];
    let services = 0;
    for (const namespace of vlindersNamespaces(config.namespaces)) {
      for await (const svc of kube.list({ verb: 'list', resource: 'services', namespace }, (page) => kube.core.listNamespacedService({ namespace, ...page }))) {
        const selector = svc.spec?.selector;
        if (!selector || Object.keys(selector).length === 0 || svc.spec?.type === 'ExternalName') continue;
        services++;
        const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
        let ready = 0;
        for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, labelSelector, ...page }))) {
          if (!podFinding(pod)) ready++;
        }
        if (ready === 0) empty.push(`${namespace}/${svc.metadata?.name ?? '?'}`);
      }
    }
    if (empty.length === 0) return { status: 'pass', detail: `${services} Services each have Ready endpoints` };
    return { status: 'fail', detail: `no Ready endpoints: ${empty.slice(0, SHOWN).join(', ')}${empty.length > SHOWN ? ', …' : ''}`, fix: 'Their pods are not Ready, or the selector matches none: `kubectl get endpoints`.' };
  },
};
