// `npm run bench`: every benchmark, one after another. Not part of CI.
import { ackLatency } from './ack-latency.js';
import { gpuFanout } from './gpu-fanout.js';
import { preflightScale } from './preflight-scale.js';
import { statusScale } from './status-scale.js';
import { backupBench } from './backup.js';
import { sloGpuHealthBench } from './slo-gpu-health.js';

await ackLatency();
await statusScale();
await gpuFanout();
await backupBench();
await preflightScale();
await sloGpuHealthBench();
// These two run when imported.
await import('./daily-digest.js');
await import('./log-scan.js');
await import('./modelops.js');
