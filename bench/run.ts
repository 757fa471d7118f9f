// `npm run bench`: every benchmark, one after another. Not part of CI.
import { ackLatency } from './ack-latency.js';
import { gpuFanout } from './gpu-fanout.js';
import { statusScale } from './status-scale.js';

await ackLatency();
await statusScale();
await gpuFanout();
// These two run when imported.
await import('./daily-digest.js');
await import('./log-scan.js');
await import('./modelops.js');
