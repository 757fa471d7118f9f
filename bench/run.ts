// `npm run bench`: every benchmark, one after another. Not part of CI.
import { ackLatency } from './ack-latency.js';

await ackLatency();
