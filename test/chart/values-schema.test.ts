// values.schema.json is generated from the zod config schema (src/config/json-schema.ts):
// the committed file must be exactly what the code generates, and helm, the JSON Schema and
// the bot's own loader must agree on what a valid config is.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { configJsonSchema, valuesSchemaText } from '../../src/config/json-schema.js';
import { parseConfigText } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { CHART_DIR, FULL_VALUES, RELEASE, helm } from './helm.js';

const REGENERATE = 'npx tsx src/config/json-schema.ts > charts/vlinders-ops/values.schema.json';
const readYaml = async (path: string) => parse(await readFile(path, 'utf8')) as Record<string, unknown>;

describe('values.schema.json', () => {
  it('is what src/config/json-schema.ts generates', async () => {
    const committed = await readFile(join(CHART_DIR, 'values.schema.json'), 'utf8');
    expect(committed, `values.schema.json is stale; regenerate it: ${REGENERATE}`).toBe(valuesSchemaText());
  });

  it('holds the config schema exactly as zod converts it', () => {
    const generated = JSON.parse(valuesSchemaText()) as { properties: { config: Record<string, unknown> } };
    const { description: _d, ...config } = generated.properties.config;
    const { $schema: _s, ...fromZod } = z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>;
    expect(config).toEqual(fromZod);
    expect(configJsonSchema()).toEqual(fromZod);
  });

  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validateValues = ajv.compile(JSON.parse(valuesSchemaText()) as object);
  const validateConfig = ajv.compile(configJsonSchema());

  it('accepts the chart defaults and the full values file', async () => {
    for (const path of [join(CHART_DIR, 'values.yaml'), FULL_VALUES]) {
      const values = await readYaml(path);
      expect(validateValues(values), `${path}: ${JSON.stringify(validateValues.errors)}`).toBe(true);
      // And the bot's own loader takes the config the chart would render.
      expect(() => parseConfigText(JSON.stringify({ ...(values.config as object), store: { namespace: 'vlinders-ops' } }))).not.toThrow();
    }
  });

  it('accepts the example config file, as the loader does', async () => {
    const text = await readFile(new URL('../../vlinders-ops.example.yaml', import.meta.url), 'utf8');
    expect(() => parseConfigText(text)).not.toThrow();
    expect(validateConfig(parse(text)), JSON.stringify(validateConfig.errors)).toBe(true);
  });

  it('rejects what the loader rejects', () => {
    const bad: Array<[string, unknown]> = [
      ['an unknown key', { slack: { prot: 3000 } }],
      ['a user id that is not one', { rbac: { roles: { admin: { users: ['bob'] } } } }],
      ['a namespace that is not a Kubernetes name', { namespaces: { platform: 'Vlinders_Platform' } }],
      ['a number out of range', { gpu: { concurrency: 0 } }],
      ['a wrong type', { limits: { maxGpuWorkers: 'many' } }],
      ['an unknown role', { cli: { role: 'root' } }],
    ];
    for (const [what, config] of bad) {
      expect(() => parseConfigText(JSON.stringify(config)), what).toThrow();
      expect(validateConfig(config), what).toBe(false);
    }
  });
});

describe('helm enforces the schema', () => {
  const refused = async (set: string) => {
    const r = await helm(['template', RELEASE, CHART_DIR, '--set', set]);
    return { code: r.exitCode, text: r.stderr };
  };

  it('refuses a config the bot would refuse, naming the path', async () => {
    const unknownKey = await refused('config.slack.prot=3000');
    expect(unknownKey.code).not.toBe(0);
    expect(unknownKey.text).toMatch(/\/config\/slack.*prot/);
    const badUser = await refused('config.rbac.roles.admin.users[0]=bob');
    expect(badUser.code).not.toBe(0);
    expect(badUser.text).toContain('/config/rbac/roles/admin/users/0');
  });

  it('refuses misspelt chart values', async () => {
    const typo = await refused('replicaCout=3');
    expect(typo.code).not.toBe(0);
    expect(typo.text).toContain('replicaCout');
    const zero = await refused('replicaCount=0');
    expect(zero.code).not.toBe(0);
    const mode = await refused('slack.mode=websocket');
    expect(mode.code).not.toBe(0);
  });
});
