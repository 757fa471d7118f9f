// The outside systems a command may use, for the cluster it was pointed at. Commands ask
// for what they need; nothing is connected until a command asks.
import type { KubeClient } from '../kube/client.js';

export interface Services {
  /** The cluster named by --cluster, or the first configured one. */
  readonly clusterName: string | undefined;
  /** Its Kubernetes client; a clear error when no cluster is configured. */
  kube(): KubeClient;
}

export interface ServiceDirectory {
  clusterNames(): string[];
  forCluster(name: string | undefined): Services;
}
