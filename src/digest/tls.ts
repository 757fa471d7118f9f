// Certificate expiry from a kubernetes.io/tls Secret, parsed as x509. Only the certificate's
// subject and dates leave this file: never the Secret's data, and the key is never read.
import { X509Certificate } from 'node:crypto';
import type { KubeClient } from '../kube/client.js';

export interface CertExpiry {
  secret: string;
  subject?: string;
  notAfter?: Date;
  daysLeft?: number;
  error?: string;
}

/** The first certificate of a PEM chain. */
export function parseLeafCert(pem: string): X509Certificate {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('tls.crt holds no PEM certificate');
  return new X509Certificate(m[0]);
}

/** The leaf certificate of a TLS Secret's tls.crt (the key is never read). */
export async function readTlsCert(kube: KubeClient, ref: { namespace: string; name: string }): Promise<X509Certificate> {
  const s = await kube.call({ verb: 'get', resource: 'secrets', namespace: ref.namespace, name: ref.name }, () => kube.core.readNamespacedSecret(ref));
  const b64 = s.data?.['tls.crt'];
  if (!b64) throw new Error('no tls.crt in the Secret');
  return parseLeafCert(Buffer.from(b64, 'base64').toString('utf8'));
}

export async function certExpiry(kube: KubeClient, ref: { namespace: string; name: string }, now: number): Promise<CertExpiry> {
  const secret = `${ref.namespace}/${ref.name}`;
  try {
    const cert = await readTlsCert(kube, ref);
    const notAfter = new Date(cert.validTo);
    return { secret, subject: cert.subject.replace(/\n/g, ', '), notAfter, daysLeft: Math.floor((notAfter.getTime() - now) / 86_400_000) };
  } catch (err) {
    return { secret, error: (err as Error).message };
  }
}

/** One line of a certificate report and its status: under 7 days fails, under `warnDays` warns. */
export function certLine(c: CertExpiry, warnDays = 30): { line: string; status: 'ok' | 'warn' | 'fail' } {
  if (c.error || c.daysLeft === undefined || !c.notAfter) return { line: `⚠️ ${c.secret}: ${c.error ?? 'unreadable'}`, status: 'warn' };
  const status = c.daysLeft < 7 ? 'fail' : c.daysLeft < warnDays ? 'warn' : 'ok';
  const mark = status === 'fail' ? '❌' : status === 'warn' ? '⚠️' : '✅';
  const when = c.daysLeft < 0 ? `expired ${-c.daysLeft} day${c.daysLeft === -1 ? '' : 's'} ago` : `expires in ${c.daysLeft} day${c.daysLeft === 1 ? '' : 's'}`;
  return { line: `${mark} ${c.secret} (${c.subject ?? '?'}): ${when}, ${c.notAfter.toISOString().slice(0, 10)}`, status };
}
