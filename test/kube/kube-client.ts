// A KubeClient on the kube-apiserver emulator, as the product would make it from a kubeconfig.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';

export function clientFor(emu: KubeApiEmulator, name = 'test', timeoutMs = 5_000): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig());
  return new KubeClient(name, kc, timeoutMs);
}

/** A kube-apiserver emulator with the bot's own namespace, for store and Lease tests. */
export async function emulatorWithNamespace(namespace = 'vlinders-ops'): Promise<KubeApiEmulator> {
  const emu = await KubeApiEmulator.start();
  emu.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  return emu;
}
