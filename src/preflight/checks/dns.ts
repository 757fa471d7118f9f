import { lookup } from 'node:dns/promises';
import type { PreflightCheck } from '../check.js';

export const dns: PreflightCheck = {
  id: 'dns',
  title: 'API domain in DNS',
  phases: [4],
  async run({ config }) {
    const domain = config.platform.domain;
    if (!domain) return { status: 'warn', detail: 'no domain configured', fix: 'Set platform.domain in the vlinders-ops config.' };
    try {
      const addresses = await lookup(domain, { all: true });
      return { status: 'pass', detail: `${domain} → ${[...new Set(addresses.map((a) => a.address))].join(', ')}` };
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      return { status: 'fail', detail: `${domain} does not resolve (${code})`, fix: `Create the DNS record: ${domain} → the Kong LoadBalancer's address (\`kubectl -n ${config.namespaces.platform} get svc ${config.platform.kongService}\`).` };
    }
  },
};
