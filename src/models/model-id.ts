// Model ids as the hub names them (org/name) and revisions (a branch, tag or commit), checked
// before they reach a Job's env, a path on the models volume or a Serve config.
import { UsageError } from '../core/errors.js';

const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?$/;

export interface ModelRef {
  id: string;
  revision: string;
  /** Its directory on the models volume, relative: org/name. */
  dir: string;
}

export function parseModelRef(id: string, revision = 'main'): ModelRef {
  const parts = id.split('/');
  if (parts.length !== 2 || !parts.every((p) => PART.test(p) && !p.includes('..'))) {
    throw new UsageError(`"${id.slice(0, 100)}" is not a model id: expected org/name (letters, digits, . _ -), e.g. meta-llama/Llama-3.1-8B-Instruct`);
  }
  if (!REVISION.test(revision) || revision.includes('..')) {
    throw new UsageError(`"${revision.slice(0, 100)}" is not a revision: expected a branch, tag or commit (letters, digits, . _ -)`);
  }
  return { id, revision, dir: id };
}
