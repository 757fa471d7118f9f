// The real Prometheus the tests start: the sandbox's own (src/sandbox/prometheus/real.ts),
// scraping the world's metrics exporter (src/sandbox/metrics).
export { startPrometheus, type RealPrometheus } from '../../src/sandbox/prometheus/real.js';
