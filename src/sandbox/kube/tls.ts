// A self-signed serving certificate for 127.0.0.1/localhost, acting as its own CA (Go's and
// Node's verifiers both accept a trusted self-signed leaf). EC P-256 keeps generation fast;
// one per process is enough, since every emulator listens on 127.0.0.1.
import { generate } from 'selfsigned';

export interface ServingCert {
  cert: string;
  key: string;
}

let cached: Promise<ServingCert> | undefined;

export function servingCert(): Promise<ServingCert> {
  cached ??= generate([{ name: 'commonName', value: 'kube-apiserver-emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60 * 60_000),
    notAfterDate: new Date(Date.now() + 365 * 24 * 60 * 60_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  }).then((g) => ({ cert: g.cert, key: g.private }));
  return cached;
}
