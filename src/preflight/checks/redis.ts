import { redisPing } from '../../redis/ping.js';
import type { PreflightCheck } from '../check.js';

export const redis: PreflightCheck = {
  id: 'redis',
  title: 'Redis PING',
  phases: [2],
  async run({ config, signal }) {
    const address = config.platform.redis;
    const fix = `Is Redis running and its Service reachable from this pod? \`kubectl -n ${config.namespaces.platform} get pods,svc -l app.kubernetes.io/name=${config.platform.workloads.redis}\`; check NetworkPolicies.`;
    try {
      const { reply, ms } = await redisPing(address, { timeoutMs: config.platform.timeoutSeconds * 1000, signal });
      if (reply === '+PONG') return { status: 'pass', detail: `${address} answered PONG in ${ms} ms` };
      if (reply.startsWith('-NOAUTH')) return { status: 'pass', detail: `${address} is up and wants AUTH (${ms} ms)` };
      return { status: 'fail', detail: `${address} answered ${reply.slice(0, 120)}`, fix };
    } catch (err) {
      return { status: 'fail', detail: (err as Error).message, fix };
    }
  },
};
