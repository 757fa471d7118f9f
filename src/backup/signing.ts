// Signed backups: "verified" means "written by this bot", not "its metadata is consistent"
// (whoever can write the bucket can write consistent metadata). Each backup gets a small
// manifest object, `<backup key>.manifest.json`, uploaded LAST: its metadata and an
// HMAC-SHA256 over the backup's name, that metadata and the object's sha256, keyed by a
// Kubernetes Secret in the bot's own namespace (config backup.signingSecret). The sha256 ties
// the signature to the bytes; restore's checksum gate then ties the bytes to the signature.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { UnreachableError } from '../core/errors.js';
import type { Services } from '../core/services.js';
import { encodeMetadata, parseManifest, type BackupMetadata } from './catalog.js';

export { MANIFEST_SUFFIX, manifestKey } from './catalog.js';

/** Below this the key is guessable; `openssl rand -hex 32` gives 64 characters. */
const MIN_KEY_BYTES = 32;

/** The signing key from the Secret; read per use so a rotated key is picked up. */
export async function readSigningKey(config: Config, services: Services): Promise<Buffer> {
  const { name, key } = config.backup.signingSecret;
  const namespace = config.store.namespace;
  const kube = services.kube();
  const secret = await kube.call({ verb: 'get', resource: 'secrets', namespace, name }, () => kube.core.readNamespacedSecret({ namespace, name }));
  const value = secret.data?.[key];
  if (!value) throw new UnreachableError(`Secret ${namespace}/${name} has no key "${key}" (config backup.signingSecret): backups can't be signed or checked without it.`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < MIN_KEY_BYTES) throw new UnreachableError(`The backup signing key in Secret ${namespace}/${name} (key "${key}") is ${bytes.length} bytes; it needs at least ${MIN_KEY_BYTES} (\`openssl rand -hex 32\`).`);
  return bytes;
}

/** What is signed: the backup's name and its metadata, in a fixed order (the S3 metadata encoding). */
function signedText(name: string, meta: BackupMetadata): string {
  return JSON.stringify({ backup: name, metadata: encodeMetadata(meta) });
}

const hmac = (key: Buffer, name: string, meta: BackupMetadata) => createHmac('sha256', key).update(signedText(name, meta)).digest('hex');

/** The manifest object's text for the backup `name` (its file name under the prefix). */
export function signedManifest(key: Buffer, name: string, meta: BackupMetadata): string {
  return `${JSON.stringify({ version: 1, backup: name, metadata: encodeMetadata(meta), signature: hmac(key, name, meta) }, null, 2)}\n`;
}

export type ManifestCheck = { ok: true; meta: BackupMetadata } | { ok: false; why: string };

/** Checks a manifest's text for the backup `name`; says why when it is not this bot's signature. */
export function checkManifest(key: Buffer, name: string, text: string): ManifestCheck {
  const parsed = parseManifest(name, text);
  if (!parsed.ok) return parsed;
  const { meta } = parsed;
  const signature = typeof parsed.signature === 'string' && /^[0-9a-f]{64}$/.test(parsed.signature) ? Buffer.from(parsed.signature, 'hex') : undefined;
  if (!signature) return { ok: false, why: 'its manifest carries no signature' };
  if (!timingSafeEqual(signature, Buffer.from(hmac(key, name, meta), 'hex'))) {
    return { ok: false, why: 'its signature does not match: the manifest was changed, or signed with another key than backup.signingSecret' };
  }
  return { ok: true, meta };
}
