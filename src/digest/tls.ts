// Certificate expiry from a kubernetes.io/tls Secret, parsed as x509. Only the certificate's
// subject and dates leave this file, and whether tls.key is its key: never the Secret's data.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { KubeClient } from '../kube/client.js';

export interface CertExpiry {
  secret: string;
  subject?: string;
  notAfter?: Date;
  daysLeft?: number;
  error?: string;
}

/**
 * The TLS Secrets the reports watch: the platform's own (platform.tlsSecret, the one preflight
 * checks), which needs no listing, and those of digest.tlsSecrets.
 */
export function watchedTlsSecrets(config: Config): Array<{ namespace: string; name: string }> {
  const own = { namespace: config.namespaces.platform, name: config.platform.tlsSecret };
  return [own, ...config.digest.tlsSecrets.filter((r) => r.namespace !== own.namespace || r.name !== own.name)];
}

/** The first certificate of a PEM chain. */
export function parseLeafCert(pem: string): X509Certificate {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('tls.crt holds no PEM certificate');
  return new X509Certificate(m[0]);
}

async function tlsSecretData(kube: KubeClient, ref: { namespace: string; name: string }): Promise<Record<string, string>> {
  const s = await kube.call({ verb: 'get', resource: 'secrets', namespace: ref.namespace, name: ref.name }, () => kube.core.readNamespacedSecret(ref));
  return s.data ?? {};
}

function leafOf(data: Record<string, string>): X509Certificate {
  const b64 = data['tls.crt'];
  if (!b64) throw new Error('no tls.crt in the Secret');
  return parseLeafCert(Buffer.from(b64, 'base64').toString('utf8'));
}

/** The leaf certificate of a TLS Secret's tls.crt (the key is not read). */
export async function readTlsCert(kube: KubeClient, ref: { namespace: string; name: string }): Promise<X509Certificate> {
  return leafOf(await tlsSecretData(kube, ref));
}

export type TlsKeyState = 'matches' | 'missing' | 'unreadable' | 'mismatch';

/**
 * The leaf certificate, and whether tls.key is its private key: a key that isn't makes every
 * TLS handshake fail. The key is parsed only to ask that, and never kept or shown.
 */
export async function readTlsPair(kube: KubeClient, ref: { namespace: string; name: string }): Promise<{ cert: X509Certificate; key: TlsKeyState }> {
  const data = await tlsSecretData(kube, ref);
  const cert = leafOf(data);
  if (!data['tls.key']) return { cert, key: 'missing' };
  let key;
  try {
    key = createPrivateKey(Buffer.from(data['tls.key'], 'base64'));
  } catch {
    return { cert, key: 'unreadable' };
  }
  return { cert, key: cert.checkPrivateKey(key) ? 'matches' : 'mismatch' };
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
