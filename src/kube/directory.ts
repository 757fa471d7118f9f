// Configured clusters by name, each client made on first use (a bad kubeconfig for one
// cluster doesn't stop commands on the others).
import type { Config } from '../config/schema.js';
import { UnreachableError, UsageError, errorMessage } from '../core/errors.js';
import type { ServiceDirectory, Services } from '../core/services.js';
import { KubeClient, loadKubeConfig } from './client.js';

export interface ClusterEntry {
  name: string;
  connect(): KubeClient;
}

export class ClusterDirectory implements ServiceDirectory {
  private clients = new Map<string, KubeClient>();

  constructor(private entries: ClusterEntry[]) {}

  clusterNames(): string[] {
    return this.entries.map((c) => c.name);
  }

  forCluster(name: string | undefined): Services {
    const entry = name === undefined ? this.entries[0] : this.entries.find((c) => c.name === name);
    if (name !== undefined && !entry) throw new UsageError(`unknown cluster "${name}"; configured: ${this.clusterNames().join(', ') || 'none'}`);
    return {
      clusterName: entry?.name,
      kube: () => {
        if (!entry) throw new UsageError('no Kubernetes cluster is configured: add one under `clusters:` in the config file');
        let client = this.clients.get(entry.name);
        if (!client) {
          client = entry.connect();
          this.clients.set(entry.name, client);
        }
        return client;
      },
    };
  }
}

/** The clusters of the config file, each from its kubeconfig context. */
export function configuredClusters(clusters: Config['clusters'], timeoutMs = 30_000): ClusterDirectory {
  return new ClusterDirectory(
    clusters.map((ref) => ({
      name: ref.name,
      connect: () => {
        try {
          return new KubeClient(ref.name, loadKubeConfig(ref), timeoutMs);
        } catch (err) {
          if (err instanceof UsageError) throw err;
          throw new UnreachableError(`cluster ${ref.name}: cannot load its kubeconfig: ${errorMessage(err)}`);
        }
      },
    })),
  );
}

/** Clients made elsewhere (tests, the sandbox console). */
export function fixedClusters(clients: KubeClient[]): ClusterDirectory {
  return new ClusterDirectory(clients.map((client) => ({ name: client.name, connect: () => client })));
}
