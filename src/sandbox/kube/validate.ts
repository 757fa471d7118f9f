// The apiserver's object validation that clients meet first: metadata.name as each kind
// requires it (k8s.io/apimachinery validation: DNS-1123 subdomain for every kind served here,
// a label for namespaces and services), and the 1 MiB ceiling on ConfigMap and
// Secret data (api.MaxSecretSize), both answered as 422 Invalid.
import type { KubeObject } from './contract.js';
import { type FieldCause, invalid } from './status.js';

/** core/v1 MaxSecretSize, which ConfigMaps share. */
export const MAX_DATA_BYTES = 1024 * 1024;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** Kinds whose names are DNS-1123 labels (they become DNS names themselves). */
const LABEL_NAMED = new Set(['v1/Namespace', 'v1/Service']);

function nameErrors(obj: KubeObject): string[] {
  const name = obj.metadata.name;
  const typeKey = `${obj.apiVersion}/${obj.kind}`;
  if (LABEL_NAMED.has(typeKey)) {
    const out: string[] = [];
    if (name.length > 63) out.push('must be no more than 63 characters');
    if (!DNS1123_LABEL.test(name)) out.push(LABEL_MESSAGE);
    return out;
  }
  const out: string[] = [];
  if (name.length > 253) out.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(name)) out.push(SUBDOMAIN_MESSAGE);
  return out;
}

function dataBytes(obj: KubeObject): number {
  let total = 0;
  const secret = obj.kind === 'Secret';
  for (const field of secret ? ['data'] : ['data', 'binaryData']) {
    const map = obj[field];
    if (!map || typeof map !== 'object') continue;
    for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
      // Secret and binaryData values are base64 on the wire; the limit counts the decoded bytes.
      const value = String(v);
      total += k.length + (secret || field === 'binaryData' ? Buffer.from(value, 'base64').length : Buffer.byteLength(value));
    }
  }
  return total;
}

/** Throws the apiserver's 422 Invalid when the object fails the checks above. */
export function validateObject(obj: KubeObject, group: string): void {
  const causes: FieldCause[] = nameErrors(obj).map((m) => ({ field: 'metadata.name', message: `Invalid value: ${JSON.stringify(obj.metadata.name)}: ${m}` }));
  if (obj.apiVersion === 'v1' && (obj.kind === 'ConfigMap' || obj.kind === 'Secret') && dataBytes(obj) > MAX_DATA_BYTES)
    causes.push({ field: obj.kind === 'Secret' ? 'data' : '[]', message: `Too long: may not be more than ${MAX_DATA_BYTES} bytes`, reason: 'FieldValueTooLong' });
  if (causes.length) throw invalid(obj.kind, group, obj.metadata.name, causes);
}
