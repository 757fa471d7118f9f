// The Helm chart's values.schema.json, built from the same zod schema the loader uses, so a
// `helm install` with a config the bot would refuse fails at install time, not in a crash loop.
// `config:` is the zod schema as JSON Schema; the chart's own values around it are written here.
//
// Regenerate (test/chart/values-schema.test.ts fails while the committed file differs):
//   npx tsx src/config/json-schema.ts > charts/vlinders-ops/values.schema.json
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.js';

type JsonSchema = Record<string, unknown>;

/**
 * The config file's JSON Schema. `io: 'input'` describes what may be written (keys with
 * defaults are optional), not what the loader returns after filling them in.
 */
export function configJsonSchema(): JsonSchema {
  const { $schema: _drop, ...schema } = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchema;
  return schema;
}

const str = (extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...extra });
const bool: JsonSchema = { type: 'boolean' };
const int = (extra: JsonSchema = {}): JsonSchema => ({ type: 'integer', ...extra });
const port = int({ minimum: 1, maximum: 65_535 });
const stringMap: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };
/** Passed through to Kubernetes as is; the chart tests validate the rendered objects. */
const k8sObject = (description: string): JsonSchema => ({ type: 'object', description });
const k8sList = (description: string): JsonSchema => ({ type: 'array', items: { type: 'object' }, description });
const strict = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...extra,
});

/** DNS-1123 subdomain: names of Secrets, ServiceAccounts. */
const objectName = str({ maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' });
/** A key in a Secret's data. */
const secretKey = str({ minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' });

export function valuesJsonSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'vlinders-ops Helm chart values',
    type: 'object',
    // Typos in values would otherwise be ignored silently.
    additionalProperties: false,
    properties: {
      // Set by parent charts; allowed so the chart can be a dependency.
      global: { type: 'object' },
      nameOverride: str({ maxLength: 63 }),
      fullnameOverride: str({ maxLength: 63 }),
      replicaCount: int({ minimum: 1, description: 'Replicas; scheduled reports run on the Lease holder only.' }),
      image: strict(
        {
          repository: str({ minLength: 1 }),
          tag: str({ description: 'Defaults to the chart appVersion.' }),
          digest: str({ pattern: '^(sha256:[a-f0-9]{64})?$', description: 'Pins the image; wins over tag.' }),
          pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
        },
        { required: ['repository'] },
      ),
      imagePullSecrets: { type: 'array', items: strict({ name: objectName }, { required: ['name'] }) },
      config: { ...configJsonSchema(), description: 'The vlinders-ops config file (vlinders-ops.yaml); store.namespace defaults to the release namespace.' },
      slack: strict(
        {
          mode: { enum: ['socket', 'http'], description: 'socket: outbound WebSocket, needs the app token. http: Slack POSTs to /slack/events, needs the signing secret.' },
          existingSecret: { ...objectName, minLength: 1, description: 'A Secret you create; the chart never holds tokens.' },
          keys: strict({ botToken: secretKey, appToken: secretKey, signingSecret: secretKey }),
        },
        { required: ['mode', 'existingSecret'] },
      ),
      s3: strict({
        existingSecret: { anyOf: [{ const: '' }, objectName], description: 'Static S3 credentials; leave empty with IRSA.' },
        keys: strict({ accessKeyId: secretKey, secretAccessKey: secretKey }),
        region: str(),
        irsaRoleArn: str({ pattern: '^(arn:aws[a-z-]*:iam::[0-9]{12}:role/.+)?$', description: 'Annotates the ServiceAccount for IAM Roles for Service Accounts.' }),
      }),
      alertmanager: strict({
        existingSecret: { anyOf: [{ const: '' }, objectName], description: 'Secret holding the bearer token Alertmanager sends to /alertmanager.' },
        key: secretKey,
      }),
      serviceAccount: strict({
        create: bool,
        name: { anyOf: [{ const: '' }, objectName] },
        annotations: stringMap,
      }),
      rbac: strict({ create: { ...bool, description: 'Role, ClusterRole and bindings granting exactly what the bot calls.' } }),
      ops: strict({ port: { ...port, description: 'Port of /healthz, /readyz, /metrics and /alertmanager.' } }),
      service: strict({
        type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
        annotations: stringMap,
        opsPort: port,
        slackPort: port,
      }),
      serviceMonitor: strict({
        enabled: bool,
        interval: str({ pattern: '^([0-9]+(ms|s|m|h))*$' }),
        scrapeTimeout: str({ pattern: '^([0-9]+(ms|s|m|h))*$' }),
        labels: stringMap,
      }),
      alertRules: strict({ enabled: bool, labels: stringMap }),
      networkPolicy: strict({
        enabled: bool,
        ingressFrom: k8sList('NetworkPolicyPeers allowed to reach the ops and Slack ports; empty: any source.'),
        dnsTo: k8sList('Peers serving DNS.'),
        kubeApiCidrs: { type: 'array', items: str({ minLength: 1 }), description: 'Where the Kubernetes API endpoints are.' },
        kubeApiPorts: { type: 'array', items: port },
        platformEgressPorts: { type: 'array', items: port, description: 'Ports reachable on pods in the Vlinders namespaces.' },
        extraEgress: k8sList('More NetworkPolicyEgressRules.'),
      }),
      pdb: strict({
        enabled: bool,
        minAvailable: { anyOf: [int({ minimum: 0 }), str({ pattern: '^[0-9]+%$' })] },
      }),
      tmp: strict({ sizeLimit: str({ pattern: '^[0-9]+(Ki|Mi|Gi)?$' }) }),
      podAnnotations: stringMap,
      podLabels: stringMap,
      podSecurityContext: k8sObject('PodSecurityContext.'),
      securityContext: k8sObject('The container SecurityContext.'),
      resources: k8sObject('ResourceRequirements.'),
      nodeSelector: stringMap,
      tolerations: k8sList('Tolerations.'),
      affinity: k8sObject('Affinity.'),
      topologySpreadConstraints: k8sList('TopologySpreadConstraints.'),
      priorityClassName: str(),
      terminationGracePeriodSeconds: int({ minimum: 0, description: 'Time running operations get to finish on shutdown.' }),
      extraEnv: k8sList('More EnvVars.'),
      extraEnvFrom: k8sList('More EnvFromSources.'),
    },
    required: ['image', 'config', 'slack'],
  };
}

/** The file's text, byte for byte what is committed. */
export function valuesSchemaText(): string {
  return `${JSON.stringify(valuesJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(valuesSchemaText());
}
