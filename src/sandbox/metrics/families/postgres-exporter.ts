// postgres_exporter's database sizes: the Vlinders database from the world's facts.
import type { MetricsFamilySource } from '../family.js';

export const postgresExporter: MetricsFamilySource = {
  job: 'postgres-exporter',
  collect({ facts }) {
    return [
      {
        name: 'pg_database_size_bytes',
        help: 'Disk space used by the database',
        type: 'gauge',
        samples: [
          { labels: { datname: 'vlinders' }, value: facts.database.sizeBytes },
          { labels: { datname: 'postgres' }, value: 7_500_000 },
        ],
      },
    ];
  },
};
