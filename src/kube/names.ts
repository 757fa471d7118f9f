// Names are checked against Kubernetes' own rules before they reach a URL or an argv.
import { UsageError } from '../core/errors.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A namespace, service or container name (RFC 1123 label, at most 63 characters). */
export function assertLabelName(value: string, what: string): string {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new UsageError(`${what} "${value.slice(0, 80)}" is not a valid Kubernetes name (lower-case letters, digits and -, at most 63)`);
  }
  return value;
}

/** A pod, node or most object names (RFC 1123 subdomain, at most 253 characters). */
export function assertObjectName(value: string, what: string): string {
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new UsageError(`${what} "${value.slice(0, 80)}" is not a valid Kubernetes name (lower-case letters, digits, - and ., at most 253)`);
  }
  return value;
}
