// What a deployed Vlinders platform has besides its workloads, as the runbook's phase 1
// creates it: the Secrets (with a real RS256 JWT key pair), the API domain's TLS Secret
// (a real x509 certificate), the ConfigMaps, and a second StorageClass. Switches break one
// thing each for the preflight tests.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import type { ClusterState, KubeObject } from '../contract.js';

export interface PlatformOptions {
  /** Leave this key out of Secret vlinders-secrets (e.g. 'stripe-secret-key'). */
  missingSecretKey?: string;
  /** The TLS Secret's certificate expired yesterday. */
  expiredCertificate?: boolean;
  /** The TLS Secret's tls.key is another certificate's key. */
  mismatchedTlsKey?: boolean;
  /** GET /version reports this minor version of Kubernetes 1 (e.g. 27), instead of 1.34. */
  kubernetesMinor?: number;
  /** No GPU Operator: its namespace stays empty (seed.ts skips its workloads). */
  noGpuOperator?: boolean;
}

/** The name the seeded certificate covers: resolvable everywhere without a DNS server. */
export const PLATFORM_DOMAIN = 'localhost';
export const TLS_SECRET = 'vlinders-tls';
export const PLATFORM_SECRET = 'vlinders-secrets';

const DAY = 86_400_000;

// Made once per process at import (key and certificate generation are async and slow-ish;
// seeding is synchronous and runs in every test).
const [jwtKeys, validCert, expiredCert] = await Promise.all([
  promisify(generateKeyPair)('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }),
  certificate(Date.now() - 30 * DAY, Date.now() + 365 * DAY),
  certificate(Date.now() - 91 * DAY, Date.now() - DAY),
]);

function certificate(notBefore: number, notAfter: number) {
  return generate([{ name: 'commonName', value: PLATFORM_DOMAIN }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(notBefore),
    notAfterDate: new Date(notAfter),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: PLATFORM_DOMAIN }] },
    ],
  });
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secretText = (bytes = 24): string => randomBytes(bytes).toString('base64url');
const labels = { 'app.kubernetes.io/part-of': 'vlinders' };

function secret(namespace: string, name: string, data: Record<string, string>, type = 'Opaque'): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels }, type, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) };
}

export function seedPlatformObjects(state: ClusterState, ns: { platform: string }, opts: PlatformOptions = {}): void {
  const P = ns.platform;
  const postgresPassword = secretText();
  const values: Record<string, string> = {
    'postgres-password': postgresPassword,
    'internal-secret': secretText(32),
    'stripe-secret-key': `sk_live_${secretText(24)}`,
    'jwt-private-key': jwtKeys.privateKey,
    'jwt-public-key': jwtKeys.publicKey,
  };
  if (opts.missingSecretKey) delete values[opts.missingSecretKey];
  state.create(secret(P, PLATFORM_SECRET, values));
  // What the API Deployment references (postgres-credentials, with the test server's password, is postgres-exec.ts's).
  state.create(secret(P, 'vlinders-api', { 'database-url': `postgresql://vlinders:${postgresPassword}@postgres.${P}.svc:5432/vlinders?sslmode=require` }));
  const cert = opts.expiredCertificate ? expiredCert : validCert;
  state.create(secret(P, TLS_SECRET, { 'tls.crt': cert.cert, 'tls.key': opts.mismatchedTlsKey ? expiredCert.private : cert.private }, 'kubernetes.io/tls'));

  state.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vlinders-api-config', namespace: P, labels }, data: { LOG_LEVEL: 'info', RAY_SERVE_URL: 'http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8000', QDRANT_COLLECTION: 'vlinders' } });
  state.create({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'fast-ssd' },
    provisioner: 'ebs.csi.aws.com',
    parameters: { type: 'io2', iopsPerGB: '50', encrypted: 'true', fsType: 'ext4' },
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  });
}

/** /version of an older cluster, shaped like a real one's. */
export function olderVersion(minor: number): { major: string; minor: string; gitVersion: string } {
  return { major: '1', minor: String(minor), gitVersion: `v1.${minor}.16` };
}
