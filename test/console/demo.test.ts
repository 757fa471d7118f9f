// The console's demo workspace config, and when it picks a real cluster over the sandbox.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_CHANNELS, DEMO_USERS, demoConfig, hasKubeconfig } from '../../src/console/index.js';
import { parseConfigText } from '../../src/config/load.js';
import { Rbac, GroupResolver } from '../../src/core/rbac.js';

const scaleGpu = { name: 'scale-gpu', role: 'operator', risk: 'change' } as const;

describe('demoConfig', () => {
  it('gives the demo people their roles: viewer, operator in #ops only, two admins and approvers', async () => {
    const config = demoConfig(undefined, [{ name: 'sandbox' }]);
    const rbac = new Rbac(config.rbac, new GroupResolver(async () => [], 0));
    const { viewer, operator, admin, approver } = DEMO_USERS;
    const { ops, general } = DEMO_CHANNELS;
    expect(await rbac.roleOf(viewer.id, ops.id)).toBe('viewer');
    expect(await rbac.roleOf(operator.id, ops.id)).toBe('operator');
    expect(await rbac.roleOf(operator.id, general.id)).toBe('viewer');
    expect(await rbac.roleOf(admin.id, general.id)).toBe('admin');
    expect(await rbac.isApprover(admin.id)).toBe(true);
    // A destructive change Ada asks for, Bea approves (and not Ada herself).
    const restore = { name: 'restore', role: 'admin', risk: 'destructive' } as const;
    expect((await rbac.authorizeApproval(approver.id, ops.id, restore, admin.id)).allowed).toBe(true);
    expect((await rbac.authorizeApproval(admin.id, ops.id, restore, admin.id)).allowed).toBe(false);
    expect((await rbac.authorizeApproval(operator.id, ops.id, restore, admin.id)).allowed).toBe(false);
    expect((await rbac.authorize(operator.id, ops.id, scaleGpu)).allowed).toBe(true);
    expect((await rbac.authorize(admin.id, general.id, scaleGpu)).allowed).toBe(false);
    expect((await rbac.authorize(viewer.id, ops.id, scaleGpu)).allowed).toBe(false);
    expect(config.clusters).toEqual([{ name: 'sandbox' }]);
  });

  it("keeps a config file's clusters and limits, but not its people, audit or incidents channel", () => {
    const base = parseConfigText(
      'clusters: [{ name: prod, context: vlinders-prod }]\nlimits: { maxGpuWorkers: 4 }\nnamespaces: { inference: llm }\nrbac: { roles: { admin: { users: [U0REALADM] } } }\naudit: { channel: C0AUDIT01 }\nalerts: { channel: C0REALINC, remedies: { GPUWorkersDown: scale-gpu 4 } }\n',
    );
    const config = demoConfig(base, base.clusters);
    expect(config.clusters).toEqual([{ name: 'prod', context: 'vlinders-prod' }]);
    expect(config.limits.maxGpuWorkers).toBe(4);
    expect(config.namespaces.inference).toBe('llm');
    expect(config.rbac.roles.admin?.users).toEqual([DEMO_USERS.admin.id, DEMO_USERS.approver.id]);
    expect(config.audit.channel).toBeUndefined();
    // Incidents go to the demo's #incidents; the config's runbook remedies stay.
    expect(config.alerts.channel).toBe(DEMO_CHANNELS.incidents.id);
    expect(config.alerts.remedies).toEqual({ GPUWorkersDown: 'scale-gpu 4' });
  });
});

describe('hasKubeconfig', () => {
  const home = () => mkdtempSync(join(tmpdir(), 'console-home-'));

  it('is false on a fresh machine: no $KUBECONFIG, no ~/.kube/config, no clusters', () => {
    expect(hasKubeconfig(undefined, {}, home())).toBe(false);
    expect(hasKubeconfig(parseConfigText('{}'), { KUBECONFIG: ' ' }, home())).toBe(false);
  });

  it('is true with any of them', () => {
    expect(hasKubeconfig(undefined, { KUBECONFIG: '/etc/kube/config' }, home())).toBe(true);
    expect(hasKubeconfig(parseConfigText('clusters: [{ name: prod }]'), {}, home())).toBe(true);
    const withConfig = home();
    mkdirSync(join(withConfig, '.kube'));
    writeFileSync(join(withConfig, '.kube', 'config'), 'apiVersion: v1\n');
    expect(hasKubeconfig(undefined, {}, withConfig)).toBe(true);
  });
});
