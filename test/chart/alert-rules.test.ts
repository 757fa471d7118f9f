// The chart's optional PrometheusRule (alertRules.enabled): off by default; on, its spec is
// rules/vlinders-alerts.yaml exactly (the file test/prometheus/alert-rules.test.ts proves with
// the real Prometheus), valid against the prometheus-operator CRD's schema, with the labels a
// Prometheus's ruleSelector needs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, NAMESPACE, byKind, one, render } from './helm.js';
import { validateObject } from './k8s-schema.js';

describe('the chart’s PrometheusRule', () => {
  it('is off by default', async () => {
    expect(byKind(await render(), 'PrometheusRule')).toHaveLength(0);
  });

  it('on: the rules file as its spec, schema-valid, with the selector labels', async () => {
    const rule = one(await render({ set: ['alertRules.enabled=true', 'alertRules.labels.release=kube-prometheus-stack'] }), 'PrometheusRule') as { spec?: unknown } & Parameters<typeof validateObject>[0];
    expect(validateObject(rule)).toEqual([]);
    expect(rule.metadata.namespace).toBe(NAMESPACE);
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/name': 'vlinders-ops' });
    // The alert annotations' {{ $value }} and {{ $labels.x }} reach Prometheus untouched by helm.
    expect(rule.spec).toEqual(parse(await readFile(join(CHART_DIR, 'rules', 'vlinders-alerts.yaml'), 'utf8')));
    expect(JSON.stringify(rule.spec)).toContain('XID {{ $value }} on GPU {{ $labels.gpu }}');
  });
});
