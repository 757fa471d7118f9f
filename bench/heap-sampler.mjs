// Preloaded into a measured process: samples heapUsed and prints the peak at exit.
let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
};
setInterval(sample, 10).unref();
process.on('exit', () => {
  sample();
  process.stderr.write(`HEAP_PEAK_BYTES=${peak}\n`);
});
