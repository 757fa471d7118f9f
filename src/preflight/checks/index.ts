// The runbook's pre-deployment checklist, in its order. One module per item.
import type { PreflightCheck } from '../check.js';
import { cni } from './cni.js';
import { configMaps } from './config-maps.js';
import { dns } from './dns.js';
import { gpuNodes } from './gpu-nodes.js';
import { gpuOperator } from './gpu-operator.js';
import { kubernetesVersion } from './kubernetes-version.js';
import { modelFilesCheck } from './model-files.js';
import { monitoring } from './monitoring.js';
import { postgres } from './postgres.js';
import { qdrant } from './qdrant.js';
import { redis } from './redis.js';
import { secrets } from './secrets.js';
import { storageClass } from './storage-class.js';
import { tls } from './tls.js';

export const CHECKS: readonly PreflightCheck[] = [kubernetesVersion, gpuNodes, gpuOperator, cni, storageClass, dns, tls, secrets, configMaps, postgres, redis, qdrant, modelFilesCheck, monitoring];
