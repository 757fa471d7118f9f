// Secrets hold their required keys, and the JWT key pair really pairs. Only key names ever
// appear in a result: never a value.
import { createPrivateKey, createPublicKey, createSign, createVerify, randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { errorMessage } from '../../core/errors.js';
import type { KubeClient } from '../../kube/client.js';
import type { CheckContext, CheckResult, PreflightCheck } from '../check.js';

type Role = 'platform' | 'inference' | 'monitoring';

async function readSecret(kube: KubeClient, namespace: string, name: string): Promise<V1Secret> {
  return kube.call({ verb: 'get', resource: 'secrets', namespace, name }, () => kube.core.readNamespacedSecret({ namespace, name }));
}

const value = (s: V1Secret, key: string): Buffer | undefined => {
  const b64 = s.data?.[key];
  const buf = b64 === undefined ? undefined : Buffer.from(b64, 'base64');
  return buf && buf.length > 0 ? buf : undefined;
};

/** Whether two PEM keys are one RS256 pair: both RSA, at least 2048 bits, and a signature by one verifies with the other. */
export function checkRs256Pair(privatePem: Buffer, publicPem: Buffer): { ok: true; bits: number } | { ok: false; why: string } {
  let priv, pub;
  try {
    priv = createPrivateKey(privatePem);
  } catch (err) {
    return { ok: false, why: `the private key does not parse (${errorMessage(err).split('\n')[0]})` };
  }
  try {
    pub = createPublicKey(publicPem);
  } catch (err) {
    return { ok: false, why: `the public key does not parse (${errorMessage(err).split('\n')[0]})` };
  }
  if (priv.asymmetricKeyType !== 'rsa' || pub.asymmetricKeyType !== 'rsa') return { ok: false, why: `RS256 needs RSA keys (got ${priv.asymmetricKeyType} and ${pub.asymmetricKeyType})` };
  const bits = priv.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) return { ok: false, why: `the key has ${bits} bits; RS256 needs at least 2048` };
  const message = randomBytes(32);
  const signature = createSign('RSA-SHA256').update(message).sign(priv);
  if (!createVerify('RSA-SHA256').update(message).verify(pub, signature)) return { ok: false, why: 'the public key does not belong to the private key' };
  return { ok: true, bits };
}

async function keysResult(ctx: CheckContext, entry: { namespace: Role; name: string; keys: string[] }): Promise<CheckResult> {
  const namespace = ctx.config.namespaces[entry.namespace];
  const where = `Secret ${namespace}/${entry.name}`;
  let secret: V1Secret;
  try {
    secret = await readSecret(ctx.kube, namespace, entry.name);
  } catch (err) {
    return { status: 'fail', detail: `${where} could not be read (${errorMessage(err)})`, fix: `Create it with the keys ${entry.keys.join(', ')}: \`kubectl -n ${namespace} create secret generic ${entry.name} --from-literal=KEY=VALUE …\`.` };
  }
  const missing = entry.keys.filter((k) => !value(secret, k));
  if (missing.length === 0) return { status: 'pass', detail: `${where} holds ${entry.keys.join(', ')}` };
  return {
    status: 'fail',
    detail: `${where} lacks ${missing.join(', ')} (or they are empty)`,
    fix: `Add them: \`kubectl -n ${namespace} patch secret ${entry.name} --type merge -p '{"stringData":{${missing.map((k) => `"${k}":"…"`).join(',')}}}'\``,
  };
}

async function jwtResult(ctx: CheckContext): Promise<CheckResult> {
  const jwt = ctx.config.platform.jwt;
  const namespace = ctx.config.namespaces[jwt.namespace];
  const where = `Secret ${namespace}/${jwt.secret}`;
  const fix = `Generate a pair (\`openssl genrsa -out jwt.key 2048 && openssl rsa -in jwt.key -pubout -out jwt.pub\`) and store it as ${jwt.privateKey} and ${jwt.publicKey} in ${where}.`;
  let secret: V1Secret;
  try {
    secret = await readSecret(ctx.kube, namespace, jwt.secret);
  } catch (err) {
    return { status: 'fail', detail: `${where} could not be read (${errorMessage(err)})`, fix };
  }
  const priv = value(secret, jwt.privateKey);
  const pub = value(secret, jwt.publicKey);
  const missing = [!priv && jwt.privateKey, !pub && jwt.publicKey].filter(Boolean);
  if (!priv || !pub) return { status: 'fail', detail: `${where} lacks ${missing.join(' and ')}`, fix };
  const pair = checkRs256Pair(priv, pub);
  return pair.ok
    ? { status: 'pass', detail: `an RS256 pair (RSA ${pair.bits}) in ${jwt.privateKey} and ${jwt.publicKey} of ${where}` }
    : { status: 'fail', detail: `${jwt.privateKey} and ${jwt.publicKey} of ${where} are no RS256 pair — ${pair.why}`, fix };
}

export const secrets: PreflightCheck = {
  id: 'secrets',
  title: 'Secrets',
  phases: [1],
  run: (ctx) => Promise.all([...ctx.config.platform.secrets.map((entry) => keysResult(ctx, entry)), jwtResult(ctx)]),
};
