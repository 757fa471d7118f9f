import { errorMessage } from '../../core/errors.js';
import { qdrantCollection } from '../../qdrant/collection.js';
import type { PreflightCheck } from '../check.js';

export const qdrant: PreflightCheck = {
  id: 'qdrant',
  title: 'Qdrant collection',
  phases: [2],
  async run({ config, signal }) {
    const { qdrantUrl, qdrantCollection: name } = config.platform;
    try {
      const info = await qdrantCollection(qdrantUrl, name, { timeoutMs: config.platform.timeoutSeconds * 1000, signal });
      if (!info.exists) return { status: 'fail', detail: `no collection "${name}"${info.error ? ` (${info.error})` : ''}`, fix: `Create it: \`curl -X PUT ${qdrantUrl}/collections/${name} -H 'Content-Type: application/json' -d '{"vectors":{"size":…,"distance":"Cosine"}}'\`.` };
      const detail = `collection "${name}" exists, status ${info.status ?? 'unknown'}${info.points !== undefined ? `, ${info.points} points` : ''}`;
      return info.status === 'green' ? { status: 'pass', detail } : { status: info.status === 'red' ? 'fail' : 'warn', detail, fix: 'Look at Qdrant\'s log: an optimizer or indexing problem.' };
    } catch (err) {
      return { status: 'fail', detail: errorMessage(err), fix: `Is Qdrant running and ${qdrantUrl} reachable from this pod? Check its pods and NetworkPolicies.` };
    }
  },
};
