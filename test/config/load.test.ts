import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, loadEnv, parseConfigText } from '../../src/config/load.js';

describe('config', () => {
  it('the shipped example parses, with every key', async () => {
    const config = await loadConfigFile(new URL('../../vlinders-ops.example.yaml', import.meta.url).pathname);
    expect(config.rbac.roles.operator?.channels).toEqual(['C0000OPS1']);
    expect(config.confirmations.ttlMinutes).toBe(10);
    expect(config.cli.role).toBe('viewer');
  });

  it('every key of the example is commented', async () => {
    const text = await readFile(new URL('../../vlinders-ops.example.yaml', import.meta.url), 'utf8');
    const lines = text.split('\n');
    // Every key that holds a value carries a comment on its line or the line above.
    lines.forEach((line, i) => {
      if (!/^\s*[a-zA-Z]+:\s*\S/.test(line)) return;
      const commented = line.includes('#') || (lines[i - 1] ?? '').trim().startsWith('#');
      if (!commented) throw new Error(`line ${i + 1} has no comment: ${line}`);
    });
  });

  it('an empty file gives the defaults, and denies everyone', () => {
    const config = parseConfigText('');
    expect(config.rbac.roles).toEqual({});
    expect(config.slack.command).toBe('/vlinders');
  });

  it('scheduled runs need the channel their outcome goes to, and names of their own', () => {
    const problems = (text: string) => {
      try {
        parseConfigText(text, 'bad.yaml');
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    const run = (name: string) => `    - { name: ${name}, cron: "0 2 * * *", command: backup }\n`;
    expect(problems(`schedule:\n  runs:\n${run('nightly')}`).join('\n')).toContain('schedule.channel: schedule.runs post their outcome to schedule.channel: set it');
    expect(problems(`schedule:\n  channel: C0000OPS1\n  runs:\n${run('nightly')}${run('nightly')}`).join('\n')).toContain('each run needs its own name');
    expect(problems(`schedule:\n  channel: C0000OPS1\n  runs:\n${run('nightly')}`)).toEqual([]);
  });

  it('lists every problem by path', () => {
    const bad = `
rbac:
  roles:
    admin:
      users: [alice, U012AB3CD]
      channels: [general]
    root: {}
confirmations:
  ttlMinutes: -1
slack:
  prot: 3000
`;
    let error: ConfigError | undefined;
    try {
      parseConfigText(bad, 'bad.yaml');
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems).toEqual(
      expect.arrayContaining([
        'rbac.roles.admin.users[0]: expected a Slack user id like U012AB3CD',
        'rbac.roles.admin.channels[0]: expected a Slack channel id like C012AB3CD',
        'rbac.roles: unknown key "root"',
        expect.stringMatching(/^confirmations\.ttlMinutes: /),
        'slack: unknown key "prot"',
      ]),
    );
    expect(error?.problems).toHaveLength(5);
    expect(error?.message).toContain('bad.yaml');
  });

  it('reports YAML syntax errors and a missing file clearly', async () => {
    expect(() => parseConfigText('rbac: [unclosed')).toThrow(/YAML/);
    await expect(loadConfigFile('/nonexistent/vlinders-ops.yaml')).rejects.toThrow(/file not found/);
  });

  it('checks the environment', () => {
    expect(() => loadEnv({ SLACK_BOT_TOKEN: 'xoxp-user-token' })).toThrow(/SLACK_BOT_TOKEN: expected a bot token/);
    expect(loadEnv({}).VLINDERS_OPS_CONFIG).toBe('./vlinders-ops.yaml');
  });
});

describe('per-cluster overrides', () => {
  const yaml = `
clusters:
  - name: eu
  - name: us
    context: us-prod
    overrides:
      prometheus: { url: "http://prometheus.us.example:9090" }
      ray: { dashboardUrl: "http://ray.us.example:8265" }
      backup: { bucket: vlinders-backups-us }
prometheus:
  url: http://prometheus.eu.example:9090
`;

  it('merge over the top level for that cluster only; the rest is kept', async () => {
    const { configForCluster } = await import('../../src/config/clusters.js');
    const config = parseConfigText(yaml, 'test');
    expect(configForCluster(config, undefined).prometheus.url).toBe('http://prometheus.eu.example:9090');
    expect(configForCluster(config, 'eu')).toBe(config);
    const us = configForCluster(config, 'us');
    expect(us.prometheus.url).toBe('http://prometheus.us.example:9090');
    expect(us.prometheus.queries.p95Latency).toBe(config.prometheus.queries.p95Latency);
    expect(us.ray.dashboardUrl).toBe('http://ray.us.example:8265');
    expect(us.ray.cluster).toBe(config.ray.cluster);
    expect(us.backup.bucket).toBe('vlinders-backups-us');
    expect(us.backup.prefix).toBe(config.backup.prefix);
    expect(configForCluster(config, 'us')).toBe(us); // merged once
  });

  it('an override the schema refuses is a config error at load, with its path', () => {
    const bad = `
clusters:
  - name: us
    overrides:
      prometheus: { url: "not a url" }
      ray: { scaleTimeoutSeconds: 1 }
`;
    try {
      parseConfigText(bad, 'test');
      expect.unreachable('the config loaded');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^clusters\[0\]\.overrides\.prometheus\.url: /m);
      expect(problems).toMatch(/^clusters\[0\]\.overrides\.ray\.scaleTimeoutSeconds: /m);
    }
    expect(() => parseConfigText('clusters:\n  - name: us\n    overrides:\n      rbac: {}\n', 'test')).toThrow(/unknown key "rbac"/);
  });
});
