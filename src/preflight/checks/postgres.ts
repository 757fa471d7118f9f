import { errorMessage } from '../../core/errors.js';
import { postgresFor } from '../../postgres/index.js';
import type { KubeClient } from '../../kube/client.js';
import type { Config } from '../../config/schema.js';
import type { PreflightCheck } from '../check.js';

/** PostgreSQL as src/postgres reaches it (kube exec into the postgres pod, or direct), for one check. */
export function postgresOf(kube: KubeClient, config: Config, signal: AbortSignal) {
  return postgresFor({ config, services: { clusterName: kube.name, kube: () => kube }, signal });
}

export const postgres: PreflightCheck = {
  id: 'postgres',
  title: 'PostgreSQL SELECT 1',
  phases: [2],
  async run({ kube, config, signal }) {
    const pg = postgresOf(kube, config, signal);
    const started = performance.now();
    try {
      const rows = await pg.query('SELECT 1', { signal });
      const ms = Math.round(performance.now() - started);
      if (rows[0]?.[0] !== '1') return { status: 'fail', detail: `SELECT 1 on ${pg.where} answered ${JSON.stringify(rows).slice(0, 80)}`, fix: 'Look at the postgres pod\'s log.' };
      return { status: 'pass', detail: `${pg.where} answered in ${ms} ms` };
    } catch (err) {
      return { status: 'fail', detail: errorMessage(err), fix: `Is PostgreSQL Ready? \`kubectl -n ${config.namespaces.platform} get pods -l app.kubernetes.io/name=${config.platform.workloads.postgres}\`; the database and role come from backup.database and backup.user.` };
    }
  },
};
