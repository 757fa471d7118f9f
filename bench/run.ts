// `npm run bench`: every benchmark, one after another. Not part of CI.
import { ackLatency } from './ack-latency.js';
import { gpuFanout } from './gpu-fanout.js';
import { statusScale } from './status-scale.js';

await ackLatency();
await statusScale();
await gpuFanout();
