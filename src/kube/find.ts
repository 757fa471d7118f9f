// Finding an object by name across the Vlinders namespaces, with a suggestion when the
// name is a near miss (a pod hash mistyped, a prefix).
import type { V1Pod } from '@kubernetes/client-node';
import { closest, distance } from 'fastest-levenshtein';
import { NotFoundError } from '../core/errors.js';
import type { KubeClient } from './client.js';
import { assertObjectName } from './names.js';

export async function findPod(kube: KubeClient, namespaces: readonly string[], name: string): Promise<V1Pod> {
  assertObjectName(name, 'pod');
  const names: string[] = [];
  for (const namespace of namespaces) {
    for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, ...page }))) {
      if (pod.metadata?.name === name) return pod;
      if (pod.metadata?.name) names.push(pod.metadata.name);
    }
  }
  const prefixed = names.filter((n) => n.startsWith(name));
  const near = names.length ? closest(name, names) : undefined;
  const hint =
    prefixed.length === 1
      ? ` Did you mean \`${prefixed[0]}\`?`
      : prefixed.length > 1
        ? ` Pods starting with it: ${prefixed.slice(0, 5).map((n) => `\`${n}\``).join(', ')}${prefixed.length > 5 ? ', …' : ''}.`
        : near && distance(name, near) <= Math.max(3, name.length / 4)
          ? ` Did you mean \`${near}\`?`
          : '';
  throw new NotFoundError(`No pod "${name}" in ${namespaces.join(', ')}.${hint}`);
}
