// Pre-deployment: the model vlinders-config names is on the models PVC and matches its
// checksum manifest (`sha256sum -c` in a Job that mounts the PVC; the Job is deleted after).
import { errorMessage } from '../../core/errors.js';
import { parseModelRef } from '../../models/model-id.js';
import { modelDir, verifyModel } from '../../models/model-jobs.js';
import { readSettings } from '../../ray/workers.js';
import type { PreflightCheck } from '../check.js';

export const modelFilesCheck: PreflightCheck = {
  id: 'model-files',
  title: 'Model files on the PVC match their checksums',
  // Phase 3 starts Ray Serve, which loads the model from the PVC.
  phases: [3],
  async run({ kube, config, signal }) {
    const ns = config.namespaces.inference;
    const { configMap } = config.inference;
    const { configKey, pvc, checksumFile } = config.models;
    let model: string | undefined;
    try {
      model = (await readSettings(kube, ns, configMap)).data?.[configKey];
    } catch (err) {
      return { status: 'fail', detail: `Cannot read ConfigMap ${ns}/${configMap}: ${errorMessage(err)}`, fix: `Create ConfigMap ${configMap} in ${ns} with the key ${configKey}.` };
    }
    if (!model) return { status: 'fail', detail: `ConfigMap ${ns}/${configMap} has no ${configKey} entry.`, fix: `Set ${configKey} to the model id (org/name), or run \`model update <org/name>\`.` };
    let ref;
    try {
      ref = parseModelRef(model);
    } catch (err) {
      return { status: 'fail', detail: errorMessage(err), fix: `Set ${configKey} in ${ns}/${configMap} to a model id like org/name.` };
    }
    const where = `${pvc}:${modelDir(config.models, ref)}`;
    try {
      const result = await verifyModel(kube, ns, config.models, ref, { timeoutMs: config.models.jobTimeoutSeconds * 1000, signal, progress: async () => undefined });
      if (result.ok) return { status: 'pass', detail: `${result.detail} (${where}).` };
      return { status: 'fail', detail: `${model} on ${where}: ${result.detail}`, fix: `Download it again: \`model update ${model}\` (or copy the files and ${checksumFile} to ${where}).` };
    } catch (err) {
      return { status: 'fail', detail: `Could not check ${where}: ${errorMessage(err)}`, fix: `Check that PVC ${pvc} exists in ${ns} and the bot may create Jobs there.` };
    }
  },
};

export default modelFilesCheck;
