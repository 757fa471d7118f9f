// The platform objects of the seeded world, held to real kubectl and node:crypto: StorageClasses
// served under storage.k8s.io, the TLS Secret a real x509 certificate, /version switchable.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { startVlindersWorld, type World } from '../../src/sandbox/kube/world/index.js';
import { Kubectl } from './kube-helpers.js';

let emu: KubeApiEmulator;
let world: World;
let kubectl: Kubectl;

beforeAll(async () => {
  emu = await KubeApiEmulator.start();
  world = startVlindersWorld(emu, { expiredCertificate: true, kubernetesMinor: 27 });
  kubectl = await Kubectl.for(emu);
});
afterAll(async () => {
  world?.stop();
  await kubectl?.cleanup();
  await emu?.close();
});

const rows = (text: unknown): string[][] =>
  String(text)
    .trimEnd()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

describe('the seeded platform objects', () => {
  it('kubectl get storageclass lists gp3 (default) and fast-ssd with the real printer columns', async () => {
    const r = await kubectl.run(['get', 'storageclass']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const table = rows(r.stdout);
    expect(table[0]).toEqual(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    expect(table.slice(1).map((row) => row.slice(0, 5))).toEqual([
      ['fast-ssd', 'ebs.csi.aws.com', 'Retain', 'WaitForFirstConsumer', 'true'],
      ['gp3 (default)', 'ebs.csi.aws.com', 'Delete', 'WaitForFirstConsumer', 'true'],
    ]);
    const sc = await kubectl.run(['get', 'sc', 'gp3', '-o', 'jsonpath={.provisioner}']);
    expect(sc.stdout).toBe('ebs.csi.aws.com');
  });

  it('kubectl version reports the switched server version', async () => {
    const r = await kubectl.run(['version', '-o', 'json']);
    const v = JSON.parse(String(r.stdout)) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    expect(v.serverVersion).toMatchObject({ major: '1', minor: '27', gitVersion: 'v1.27.16' });
  });

  it('the TLS Secret holds a real certificate for localhost (here the expired variant) and its key', async () => {
    const r = await kubectl.run(['get', 'secret', 'vlinders-tls', '-n', 'vlinders-platform', '-o', 'json']);
    const secret = JSON.parse(String(r.stdout)) as { type: string; data: Record<string, string> };
    expect(secret.type).toBe('kubernetes.io/tls');
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'] as string, 'base64'));
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(new Date(cert.validTo).getTime()).toBeLessThan(Date.now());
    expect(cert.checkPrivateKey(createPrivateKey(Buffer.from(secret.data['tls.key'] as string, 'base64')))).toBe(true);
  });

  it('the GPU Operator and CNI pods carry the labels their charts set', async () => {
    const operator = await kubectl.run(['get', 'pods', '-A', '-l', 'app=gpu-operator', '-o', 'name']);
    expect(String(operator.stdout).trim().split('\n')).toHaveLength(1);
    const cni = await kubectl.run(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=calico-node', '-o', 'name']);
    expect(String(cni.stdout).trim().split('\n')).toHaveLength(world.cluster.counts.nodes);
  });
});
