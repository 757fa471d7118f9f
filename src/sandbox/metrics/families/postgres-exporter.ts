// postgres_exporter's database sizes, one exporter beside each Running PostgreSQL pod (a
// streaming replica reports the same databases as its primary): the Vlinders database from
// the world's facts.
import type { MetricsFamilySource, MetricSample } from '../family.js';
import type { Pod } from '../../kube/world/objects.js';

export const postgresExporter: MetricsFamilySource = {
  job: 'postgres-exporter',
  collect({ state, facts }) {
    const samples: MetricSample[] = [];
    for (const pod of state.list('v1', 'Pod') as Pod[]) {
      if (pod.metadata.labels?.['app.kubernetes.io/name'] !== 'postgres' || pod.status.phase !== 'Running') continue;
      const instance = `${String(pod.status.podIP ?? pod.metadata.name)}:9187`;
      samples.push({ labels: { instance, pod: pod.metadata.name, datname: 'vlinders' }, value: facts.database.sizeBytes }, { labels: { instance, pod: pod.metadata.name, datname: 'postgres' }, value: 7_500_000 });
    }
    return [{ name: 'pg_database_size_bytes', help: 'Disk space used by the database', type: 'gauge', samples }];
  },
};
