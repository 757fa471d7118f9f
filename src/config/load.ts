// Loads the YAML config and the environment, and turns every zod issue into a line
// `path: problem` so an operator fixes all of them in one go.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { checkClusterOverrides } from './clusters.js';
import { configSchema, envSchema, type Config, type Env } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid config in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** `rbac.roles.admin.users[0]` from ['rbac','roles','admin','users',0]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const at = issue.path.length ? `${formatPath(issue.path)}: ` : '';
      return `${at}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
}

export function parseConfigText(text: string, source = 'config'): Config {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  // Each cluster's overrides must make a valid config too; say so now, not at its first command.
  const problems = result.data.clusters.flatMap((_, i) => {
    const checked = checkClusterOverrides(result.data, i);
    return 'issues' in checked ? formatIssues(checked.issues) : [];
  });
  // A binding limited to a cluster the config doesn't have would silently grant nothing.
  const clusterNames = result.data.clusters.map((c) => c.name);
  for (const [role, binding] of Object.entries(result.data.rbac.roles)) {
    for (const [j, name] of (binding?.clusters ?? []).entries()) {
      if (!clusterNames.includes(name)) problems.push(`rbac.roles.${role}.clusters[${j}]: "${name}" is not a configured cluster (clusters: ${clusterNames.join(', ') || 'none'})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return result.data;
}

export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [
      code === 'ENOENT'
        ? `file not found; copy vlinders-ops.example.yaml to ${path} or set VLINDERS_OPS_CONFIG`
        : `cannot read: ${(err as Error).message}`,
    ]);
  }
  return parseConfigText(text, path);
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(env);
  if (!result.success) throw new ConfigError('environment', formatIssues(result.error.issues));
  return result.data;
}
