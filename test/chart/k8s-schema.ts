// Validates rendered objects against the Kubernetes API schemas, offline.
//
// There is no API server here, and kubectl can't validate without one (client-side dry run
// still asks the server for its OpenAPI). Two packages carry the schemas instead, both
// generated from the upstream Kubernetes OpenAPI spec:
//   1. kubernetes-models (and @kubernetes-models/prometheus-operator, from the CRD's schema):
//      ajv validators for types, formats, enums and required fields, per kind.
//   2. @kubernetes/client-node's typed models: the declared fields of every type. The
//      OpenAPI spec does not forbid unknown fields, so (1) alone would pass a misindented
//      key; walking the object against these field lists rejects it, as the API server does
//      with strict field validation (`kubectl apply --validate=strict`).
// ServiceMonitor and PrometheusRule are not built-in types, so only (1) applies to them.
import * as k8s from '@kubernetes/client-node';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { K8sObject } from './helm.js';

interface Validating {
  validate(): void;
}
type ModelClass = new (data: never) => Validating;

/** Every kind the chart may render; anything else is a finding, not a pass. */
const MODELS: Record<string, { model: ModelClass; typed?: string }> = {
  'v1/ConfigMap': { model: ConfigMap, typed: 'V1ConfigMap' },
  'v1/Service': { model: Service, typed: 'V1Service' },
  'v1/ServiceAccount': { model: ServiceAccount, typed: 'V1ServiceAccount' },
  'apps/v1/Deployment': { model: Deployment, typed: 'V1Deployment' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, typed: 'V1PodDisruptionBudget' },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, typed: 'V1NetworkPolicy' },
  'rbac.authorization.k8s.io/v1/Role': { model: Role, typed: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding, typed: 'V1RoleBinding' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, typed: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: ClusterRoleBinding, typed: 'V1ClusterRoleBinding' },
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule },
};

interface Attribute {
  baseName: string;
  type: string;
}
interface TypedModel {
  getAttributeTypeMap(): Attribute[];
}

function typedModel(name: string): TypedModel | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[name];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate ? (candidate as unknown as TypedModel) : undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Unknown fields and wrong primitive types, against client-node's declared fields. */
function walk(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void problems.push(`${path}: expected a list, got ${typeof value}`);
    value.forEach((item, i) => walk(item, array[1] as string, `${path}[${i}]`, problems));
    return;
  }
  if (map) {
    if (!isPlainObject(value)) return void problems.push(`${path}: expected a map, got ${Array.isArray(value) ? 'a list' : typeof value}`);
    for (const [key, item] of Object.entries(value)) walk(item, map[1] as string, `${path}.${key}`, problems);
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') problems.push(`${path}: expected an int or a string, got ${JSON.stringify(value)}`);
      return;
    case 'any':
    case 'object':
      return;
  }
  const model = typedModel(type);
  if (!model) return void problems.push(`${path}: no schema for type ${type}`);
  if (!isPlainObject(value)) return void problems.push(`${path}: expected an object (${type}), got ${JSON.stringify(value)}`);
  const attributes = model.getAttributeTypeMap();
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (!attribute) problems.push(`${path}.${key}: unknown field (not in ${type})`);
    else walk(item, attribute.type, `${path}.${key}`, problems);
  }
}

/** Problems with one object; empty when the API server would take it. */
export function validateObject(obj: K8sObject): string[] {
  const id = `${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
  const entry = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!entry) return [`${id}: no schema for ${obj.apiVersion} ${obj.kind}`];
  const problems: string[] = [];
  try {
    new entry.model(structuredClone(obj) as never).validate();
  } catch (err) {
    for (const part of (err as Error).message.split(', ')) problems.push(`${id}: ${part.replace(/^data/, '')}`);
  }
  if (entry.typed) walk(obj, entry.typed, id, problems);
  return problems;
}

export function validateAll(objects: readonly K8sObject[]): string[] {
  return objects.flatMap(validateObject);
}
