import { readTlsPair, type TlsKeyState } from '../../digest/tls.js';
import { errorMessage } from '../../core/errors.js';
import type { PreflightCheck } from '../check.js';

const DAY = 86_400_000;

export const tls: PreflightCheck = {
  id: 'tls',
  title: 'TLS certificate',
  phases: [4],
  async run({ kube, config, now }) {
    const { domain, tlsSecret, tlsWarnDays } = config.platform;
    const ref = { namespace: config.namespaces.platform, name: tlsSecret };
    const where = `Secret ${ref.namespace}/${ref.name}`;
    let cert;
    let key: TlsKeyState;
    try {
      ({ cert, key } = await readTlsPair(kube, ref));
    } catch (err) {
      return { status: 'fail', detail: `${where} could not be read (${errorMessage(err)})`, fix: `Create it: \`kubectl -n ${ref.namespace} create secret tls ${ref.name} --cert=tls.crt --key=tls.key\` (or let cert-manager issue it).` };
    }
    const notAfter = new Date(cert.validTo);
    const notBefore = new Date(cert.validFrom);
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY);
    const renew = `Renew the certificate for ${domain ?? 'the API domain'} and replace ${where}.`;
    if (notAfter.getTime() <= now.getTime()) return { status: 'fail', detail: `${where} expired on ${notAfter.toISOString().slice(0, 10)}`, fix: renew };
    if (notBefore.getTime() > now.getTime()) return { status: 'fail', detail: `${where} is not valid before ${notBefore.toISOString()}`, fix: renew };
    if (key !== 'matches') {
      const what = { missing: 'has no tls.key', unreadable: 'has a tls.key that is not a PEM private key', mismatch: "has a tls.key that is not the certificate's private key" }[key];
      return { status: 'fail', detail: `${where} ${what}: TLS handshakes with it fail`, fix: `Put the certificate and its own key together: \`kubectl -n ${ref.namespace} create secret tls ${ref.name} --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -\`.` };
    }
    if (domain && cert.checkHost(domain) === undefined) {
      return { status: 'fail', detail: `${where} does not cover ${domain} (${cert.subjectAltName ?? cert.subject.replace(/\n/g, ', ')})`, fix: `Issue a certificate whose subjectAltName includes DNS:${domain}.` };
    }
    const detail = `${where}${domain ? ` covers ${domain}` : ''}, valid until ${notAfter.toISOString().slice(0, 10)} (${daysLeft} days)`;
    if (daysLeft < tlsWarnDays) return { status: 'warn', detail, fix: renew };
    if (!domain) return { status: 'warn', detail, fix: 'Set platform.domain to check the certificate covers it.' };
    return { status: 'pass', detail };
  },
};
