// `verify --phase N`: the conditions the runbook waits for by hand after each deploy phase.
// Phase 1's Secrets and ConfigMaps are preflight's own checks.
import type { V1Namespace } from '@kubernetes/client-node';
import { NotFoundError, errorMessage } from '../core/errors.js';
import { pvcFinding } from '../kube/health.js';
import { httpCall, modelIds } from '../platform-api/http.js';
import type { CheckResult, PreflightCheck } from '../preflight/check.js';
import { configMaps } from '../preflight/checks/config-maps.js';
import { postgresOf } from '../preflight/checks/postgres.js';
import { secrets } from '../preflight/checks/secrets.js';
import { quoteTable } from '../postgres/index.js';
import { workloadReady } from '../preflight/workload-ready.js';
import { resolveRayCluster } from '../ray/raycluster.js';
import { isWorkerReady } from '../ray/workers.js';
import { vlindersNamespaces } from '../config/schema.js';

const namespacesExist: PreflightCheck = {
  id: 'namespaces',
  title: 'Namespaces',
  phases: [1],
  async run({ kube, config }) {
    return Promise.all(
      vlindersNamespaces(config.namespaces).map(async (name): Promise<CheckResult> => {
        try {
          const ns: V1Namespace = await kube.call({ verb: 'get', resource: 'namespaces', name }, () => kube.core.readNamespace({ name }));
          const phase = ns.status?.phase ?? 'Active';
          return phase === 'Active' ? { status: 'pass', detail: `${name} Active` } : { status: 'fail', detail: `${name} is ${phase}`, fix: `Wait for it, or see why: \`kubectl get ns ${name} -o yaml\`.` };
        } catch (err) {
          if (err instanceof NotFoundError) return { status: 'fail', detail: `${name} does not exist`, fix: `\`kubectl create namespace ${name}\`` };
          throw err;
        }
      }),
    );
  },
};

const pvcsBound: PreflightCheck = {
  id: 'pvcs-bound',
  title: 'PVCs Bound',
  phases: [1],
  async run({ kube, config }) {
    let total = 0;
    const unbound: string[] = [];
    for (const namespace of vlindersNamespaces(config.namespaces)) {
      for await (const pvc of kube.list({ verb: 'list', resource: 'persistentvolumeclaims', namespace }, (page) => kube.core.listNamespacedPersistentVolumeClaim({ namespace, ...page }))) {
        total++;
        const f = pvcFinding(pvc);
        if (f) unbound.push(`${f.subject}: ${f.reason}`);
      }
    }
    if (unbound.length === 0) return { status: 'pass', detail: `${total} PVCs Bound` };
    return { status: 'fail', detail: `${unbound.length}/${total} not Bound: ${unbound.slice(0, 5).join('; ')}`, fix: 'Check the StorageClass exists and the provisioner runs: `kubectl describe pvc <name>`.' };
  },
};

const databasesReady: PreflightCheck = {
  id: 'databases',
  title: 'PostgreSQL and Redis Ready',
  phases: [2],
  run: ({ kube, config }) => Promise.all([config.platform.workloads.postgres, config.platform.workloads.redis].map((name) => workloadReady(kube, config.namespaces.platform, name))),
};

const schemaInitialised: PreflightCheck = {
  id: 'schema',
  title: 'Schema initialised',
  phases: [2],
  async run({ kube, config, signal }) {
    const pg = postgresOf(kube, config, signal);
    const tables = config.platform.schemaTables;
    // to_regclass is NULL for a table that does not exist; names are validated and quoted.
    const rows = await pg.query(`SELECT ${tables.map((t) => `to_regclass('${quoteTable(t)}') IS NOT NULL`).join(', ')}`, { signal });
    const missing = tables.filter((_, i) => rows[0]?.[i] !== 't');
    if (missing.length === 0) return { status: 'pass', detail: `${tables.join(', ')} exist in ${pg.settings.database}` };
    return { status: 'fail', detail: `${pg.settings.database} lacks ${missing.join(', ')}`, fix: 'Run the platform\'s database migrations (runbook phase 2), then check again.' };
  },
};

const rayHead: PreflightCheck = {
  id: 'ray-head',
  title: 'Ray head',
  phases: [3],
  async run({ kube, config }) {
    const namespace = config.namespaces.inference;
    const { raycluster } = await resolveRayCluster(kube, { namespace: config.namespaces.inference, cluster: config.ray.cluster, service: config.ray.service });
    const name = raycluster.metadata.name;
    const heads = [];
    for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, labelSelector: `ray.io/cluster=${name},ray.io/node-type=head`, ...page }))) heads.push(pod);
    if (heads.length === 0) return { status: 'fail', detail: `RayCluster ${name} has no head pod`, fix: `\`kubectl -n ${namespace} describe raycluster ${name}\`` };
    const ready = heads.filter(isWorkerReady);
    return ready.length > 0
      ? { status: 'pass', detail: `head ${ready[0]?.metadata?.name} of RayCluster ${name} Ready` }
      : { status: 'fail', detail: `head ${heads[0]?.metadata?.name} of RayCluster ${name} is not Ready`, fix: `\`/vlinders diagnose pod ${heads[0]?.metadata?.name}\`` };
  },
};

const serveModels: PreflightCheck = {
  id: 'serve-models',
  title: '/v1/models through Ray Serve',
  phases: [3],
  async run({ config, signal }) {
    const url = config.ray.serveUrl;
    const fix = 'Is the Serve application RUNNING? Look at the Ray dashboard (port 8265), Serve tab, or `serve status` in the head pod.';
    try {
      const a = await httpCall(url, 'GET', '/v1/models', { timeoutMs: config.platform.timeoutSeconds * 1000, signal, system: 'Ray Serve' });
      if (a.status !== 200) return { status: 'fail', detail: `GET ${url}/v1/models: HTTP ${a.status} in ${a.ms} ms: ${a.excerpt || '(empty body)'}`, fix };
      const ids = modelIds(a.json);
      return ids.length > 0 ? { status: 'pass', detail: `${ids.join(', ')} (${a.ms} ms)` } : { status: 'fail', detail: `GET ${url}/v1/models lists no model (${a.ms} ms)`, fix };
    } catch (err) {
      return { status: 'fail', detail: errorMessage(err), fix };
    }
  },
};

const kongGateway: PreflightCheck = {
  id: 'kong',
  title: 'Kong gateway',
  phases: [4],
  async run({ kube, config }) {
    const namespace = config.namespaces.platform;
    const name = config.platform.kongService;
    const ready = await workloadReady(kube, namespace, config.platform.workloads.kong);
    let address: CheckResult;
    try {
      const svc = await kube.call({ verb: 'get', resource: 'services', namespace, name }, () => kube.core.readNamespacedService({ namespace, name }));
      const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.hostname ?? i.ip).filter(Boolean);
      address = ingress.length > 0
        ? { status: 'pass', detail: `Service ${namespace}/${name} has LoadBalancer address ${ingress.join(', ')}` }
        : { status: 'fail', detail: `Service ${namespace}/${name} has no LoadBalancer address yet${svc.spec?.type !== 'LoadBalancer' ? ` (it is type ${svc.spec?.type ?? 'ClusterIP'})` : ''}`, fix: `Wait for the cloud's load balancer, or see why: \`kubectl -n ${namespace} describe svc ${name}\`.` };
    } catch (err) {
      address = { status: 'fail', detail: errorMessage(err), fix: `Deploy Kong's proxy Service ${name} (type LoadBalancer).` };
    }
    return [ready, address];
  },
};

const monitoringReady: PreflightCheck = {
  id: 'monitoring-ready',
  title: 'Prometheus and Grafana Ready',
  phases: [5],
  run: ({ kube, config }) => Promise.all([config.platform.workloads.prometheus, config.platform.workloads.grafana].map((name) => workloadReady(kube, config.namespaces.monitoring, name))),
};

export const PHASE_CHECKS: readonly PreflightCheck[] = [namespacesExist, secrets, configMaps, pvcsBound, databasesReady, schemaInitialised, rayHead, serveModels, kongGateway, monitoringReady];
