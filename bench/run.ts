// `npm run bench`: every benchmark, one after another. Not part of CI.
import { ackLatency } from './ack-latency.js';
import { gpuFanout } from './gpu-fanout.js';
import { statusScale } from './status-scale.js';
import { backupBench } from './backup.js';

await ackLatency();
await statusScale();
await gpuFanout();
await backupBench();
// These two run when imported.
await import('./daily-digest.js');
await import('./log-scan.js');
