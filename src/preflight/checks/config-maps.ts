import { NotFoundError, errorMessage } from '../../core/errors.js';
import type { PreflightCheck } from '../check.js';

export const configMaps: PreflightCheck = {
  id: 'configmaps',
  title: 'ConfigMaps',
  phases: [1],
  async run({ kube, config }) {
    const found: string[] = [];
    const missing: string[] = [];
    for (const entry of config.platform.configMaps) {
      const namespace = config.namespaces[entry.namespace];
      try {
        await kube.call({ verb: 'get', resource: 'configmaps', namespace, name: entry.name }, () => kube.core.readNamespacedConfigMap({ namespace, name: entry.name }));
        found.push(`${namespace}/${entry.name}`);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw new Error(errorMessage(err));
        missing.push(`${namespace}/${entry.name}`);
      }
    }
    if (missing.length === 0) return { status: 'pass', detail: `${found.join(', ')} present` };
    return { status: 'fail', detail: `missing: ${missing.join(', ')}`, fix: 'Apply the platform\'s ConfigMaps (`kubectl apply -f k8s/configmaps/`) before deploying.' };
  },
};
