// meta.k8s.io/v1 Table rendering, as the apiserver's printers do it for `kubectl get`: the cells
// are computed server-side (pod STATUS, node ROLES, AGE as a human duration), kubectl only lays
// them out. Column sets follow the real printers for the kinds the runbook looks at.
import type { KubeObject } from './contract.js';
import type { PrinterColumn, ResourceType } from './resources.js';

export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Obj = Record<string, unknown>;
type Cell = string | number | boolean | null;
interface Printer {
  columns: Column[];
  cells: (o: KubeObject, now: number) => Cell[];
}

const col = (name: string, type = 'string', priority = 0, format = '', description = name): Column => ({ name, type, format, description, priority });
const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const orNone = (s: string): string => s || '<none>';

/** Go's duration.HumanDuration: "45s", "5m30s", "3h12m", "2d4h", "1y20d". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function since(ts: unknown, now: number): string {
  const t = Date.parse(str(ts));
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

const age = (o: KubeObject, now: number): string => since(o.metadata.creationTimestamp, now);

/** kubectl's pod STATUS, READY and RESTARTS, following printPod. */
export function podSummary(pod: KubeObject, now = Date.now()): { ready: string; status: string; restarts: string } {
  const spec = (pod.spec ?? {}) as Obj;
  const st = (pod.status ?? {}) as Obj;
  let reason = str(st.reason) || str(st.phase);
  let restarts = 0;
  let lastRestart = 0;
  const noteRestart = (c: Obj): void => {
    restarts += num(c.restartCount);
    const t = Date.parse(str(get(c, 'lastState.terminated.finishedAt')));
    if (!Number.isNaN(t) && t > lastRestart) lastRestart = t;
  };
  const initSpecs = arr(spec.initContainers);
  const sidecars = new Set(initSpecs.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  let initializing = false;
  const initStatuses = arr(st.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] as Obj;
    noteRestart(c);
    const term = get(c, 'state.terminated') as Obj | undefined;
    const waiting = get(c, 'state.waiting') as Obj | undefined;
    if (term && num(term.exitCode) === 0) continue;
    if (sidecars.has(c.name) && c.started === true) continue;
    if (term) reason = str(term.reason) ? `Init:${str(term.reason)}` : num(term.signal) ? `Init:Signal:${num(term.signal)}` : `Init:ExitCode:${num(term.exitCode)}`;
    else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') reason = `Init:${str(waiting.reason)}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }
  const conditions = arr(st.conditions);
  let readyCount = 0;
  if (!initializing || conditions.some((c) => c.type === 'Initialized' && c.status === 'True')) {
    restarts = 0;
    let hasRunning = false;
    const statuses = arr(st.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] as Obj;
      noteRestart(c);
      const waiting = get(c, 'state.waiting') as Obj | undefined;
      const term = get(c, 'state.terminated') as Obj | undefined;
      if (waiting && str(waiting.reason)) reason = str(waiting.reason);
      else if (term && str(term.reason)) reason = str(term.reason);
      else if (term) reason = num(term.signal) ? `Signal:${num(term.signal)}` : `ExitCode:${num(term.exitCode)}`;
      else if (c.ready === true && get(c, 'state.running')) {
        hasRunning = true;
        readyCount++;
      }
    }
    if (reason === 'Completed' && hasRunning)
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  const meta = pod.metadata;
  if (meta.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const total = arr(spec.containers).length + sidecars.size;
  const restartText = restarts && lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  return { ready: `${readyCount}/${total}`, status: reason, restarts: restartText };
}

const PRINTERS: Record<string, Printer> = {
  'v1/Pod': {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts'), AGE, col('IP', 'string', 1), col('Node', 'string', 1), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    cells: (o, now) => {
      const s = podSummary(o, now);
      const gates = arr(get(o, 'spec.readinessGates'));
      const conds = arr(get(o, 'status.conditions'));
      const gateText = gates.length
        ? `${gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
        : '<none>';
      return [o.metadata.name, s.ready, s.status, s.restarts, age(o, now), orNone(str(get(o, 'status.podIP'))), orNone(str(get(o, 'spec.nodeName'))), orNone(str(get(o, 'status.nominatedNodeName'))), gateText];
    },
  },
  'v1/Node': {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 'string', 1), col('External-IP', 'string', 1), col('OS-Image', 'string', 1), col('Kernel-Version', 'string', 1), col('Container-Runtime', 'string', 1)],
    cells: (o, now) => {
      const ready = arr(get(o, 'status.conditions')).find((c) => c.type === 'Ready');
      let status = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
      if (get(o, 'spec.unschedulable') === true) status += ',SchedulingDisabled';
      const roles = new Set<string>();
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
        if (k.startsWith('node-role.kubernetes.io/') && k.length > 24) roles.add(k.slice(24));
        if (k === 'kubernetes.io/role' && v) roles.add(v);
      }
      const addr = (type: string): string => orNone(str(arr(get(o, 'status.addresses')).find((a) => a.type === type)?.address));
      const info = (k: string): string => str(get(o, `status.nodeInfo.${k}`)) || '<unknown>';
      return [o.metadata.name, status, roles.size ? [...roles].sort().join(',') : '<none>', age(o, now), info('kubeletVersion'), addr('InternalIP'), addr('ExternalIP'), info('osImage'), info('kernelVersion'), info('containerRuntimeVersion')];
    },
  },
  'v1/Namespace': {
    columns: [NAME, col('Status'), AGE],
    cells: (o, now) => [o.metadata.name, str(get(o, 'status.phase')) || 'Active', age(o, now)],
  },
  'v1/PersistentVolumeClaim': {
    columns: [NAME, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), AGE, col('VolumeMode', 'string', 1)],
    cells: (o, now) => [o.metadata.name, str(get(o, 'status.phase')), str(get(o, 'spec.volumeName')), str(get(o, 'status.capacity.storage')), arr(get(o, 'status.accessModes')).map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[String(m)] ?? String(m)).join(','), str(get(o, 'spec.storageClassName')), orNone(str(get(o, 'spec.volumeAttributesClassName'))), age(o, now), str(get(o, 'spec.volumeMode')) || 'Filesystem'],
  },
  'apps/v1/Deployment': {
    columns: [NAME, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE],
    cells: (o, now) => [o.metadata.name, `${num(get(o, 'status.readyReplicas'))}/${num(get(o, 'spec.replicas'))}`, num(get(o, 'status.updatedReplicas')), num(get(o, 'status.availableReplicas')), age(o, now)],
  },
  'storage.k8s.io/v1/StorageClass': {
    columns: [NAME, col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion'), AGE],
    cells: (o, now) => [
      o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? `${o.metadata.name} (default)` : o.metadata.name,
      str(get(o, 'provisioner')),
      str(get(o, 'reclaimPolicy')) || 'Delete',
      str(get(o, 'volumeBindingMode')) || 'Immediate',
      get(o, 'allowVolumeExpansion') === true ? 'true' : 'false',
      age(o, now),
    ],
  },
  'policy/v1/PodDisruptionBudget': {
    columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), AGE],
    cells: (o, now) => {
      const intOrString = (v: unknown): string => (v === undefined || v === null ? 'N/A' : String(v));
      return [o.metadata.name, intOrString(get(o, 'spec.minAvailable')), intOrString(get(o, 'spec.maxUnavailable')), num(get(o, 'status.disruptionsAllowed')), age(o, now)];
    },
  },
  'apps/v1/StatefulSet': {
    columns: [NAME, col('Ready'), AGE],
    cells: (o, now) => [o.metadata.name, `${num(get(o, 'status.readyReplicas'))}/${num(get(o, 'spec.replicas'))}`, age(o, now)],
  },
};

function crdPrinter(columns: PrinterColumn[]): Printer {
  return {
    columns: [NAME, ...columns.map((c) => col(c.name, c.type === 'date' ? 'date' : c.type, c.priority ?? 0, c.format ?? ''))],
    cells: (o, now) => [
      o.metadata.name,
      ...columns.map((c): Cell => {
        const v = get(o, c.jsonPath.replace(/^\./, ''));
        if (v === undefined || v === null) return null;
        if (c.type === 'date') return since(v, now);
        return typeof v === 'object' ? JSON.stringify(v) : (v as Cell);
      }),
    ],
  };
}

const DEFAULT: Printer = { columns: [NAME, AGE], cells: (o, now) => [o.metadata.name, age(o, now)] };

export function printerFor(t: ResourceType): Printer {
  const key = t.group ? `${t.group}/${t.version}/${t.kind}` : `v1/${t.kind}`;
  return PRINTERS[key] ?? (t.columns ? crdPrinter(t.columns) : DEFAULT);
}

export type IncludeObject = 'None' | 'Object' | 'PartialObjectMetadata';

/** One serialized row; `full` is the object's JSON, reused when the row carries the whole object. */
export function tableRow(p: Printer, obj: KubeObject, full: string, include: IncludeObject, now: number): string {
  const cells = JSON.stringify(p.cells(obj, now));
  if (include === 'None') return `{"cells":${cells}}`;
  if (include === 'Object') return `{"cells":${cells},"object":${full}}`;
  return `{"cells":${cells},"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(obj.metadata)}}}`;
}
