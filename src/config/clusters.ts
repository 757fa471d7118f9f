// The config a command sees for the cluster it runs on: the top level with that cluster's
// `overrides` merged over it (objects key by key, anything else replaced), checked by the same
// schema, so `--cluster prod` reads prod's Prometheus, Ray dashboard and bucket.
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
  return out;
}

/** The merged config of the cluster at `index`, or the schema's issues (paths inside its overrides). */
export function checkClusterOverrides(config: Config, index: number): { config: Config } | { issues: z.core.$ZodIssue[] } {
  const overrides = config.clusters[index]?.overrides;
  if (!overrides) return { config };
  const result = configSchema.safeParse(merge(config, overrides));
  if (result.success) return { config: result.data };
  return { issues: result.error.issues.map((issue) => ({ ...issue, path: ['clusters', index, 'overrides', ...issue.path] })) };
}

const merged = new WeakMap<Config, Map<string, Config>>();

/** The config for the named cluster (undefined: the first, the default of --cluster). */
export function configForCluster(config: Config, name: string | undefined): Config {
  const index = name === undefined ? 0 : config.clusters.findIndex((c) => c.name === name);
  const cluster = config.clusters[index];
  if (!cluster?.overrides) return config;
  let byName = merged.get(config);
  if (!byName) merged.set(config, (byName = new Map()));
  let effective = byName.get(cluster.name);
  if (!effective) {
    const checked = checkClusterOverrides(config, index);
    // parseConfigText already refused invalid overrides; a config built in code is checked here.
    if (!('config' in checked)) throw new Error(`clusters[${index}].overrides: ${checked.issues.map((i) => i.message).join('; ')}`);
    byName.set(cluster.name, (effective = checked.config));
  }
  return effective;
}
