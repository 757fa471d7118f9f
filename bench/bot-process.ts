// How the benchmarks start the bot: as the image runs it, plain node on the compiled dist/
// (`npm run build`) with the NODE_OPTIONS the chart sets by default (heap cap at half the memory
// limit but never under 1536 MB, 2 MB semi-spaces), and a sampler preloaded that prints the peak
// heap at exit.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
/** The chart's heap cap for its default resources.limits.memory of 512Mi (its floor). */
export const CHART_HEAP_MB = 1536;

/** The chart's NODE_OPTIONS for a heap cap (test/chart/chart.test.ts holds the chart to them). */
export function chartNodeFlags(heapMB = CHART_HEAP_MB): string[] {
  return [`--max-old-space-size=${heapMB}`, '--max-semi-space-size=2'];
}

let built: Promise<unknown> | undefined;
/** Builds dist/ once per benchmark run. */
export function ensureBuilt(): Promise<unknown> {
  built ??= promisify(execFile)('npm', ['run', 'build'], { cwd: root });
  return built;
}

let benchCompiled: Promise<unknown> | undefined;
/**
 * Compiles the benchmarks' own bot processes (tsconfig.bench.json → dist-bench/) once per run,
 * so they run plain JavaScript as the image does (tsx alone adds ~90 MB RSS and its loader's CPU).
 */
export function ensureBenchCompiled(): Promise<unknown> {
  benchCompiled ??= promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.bench.json'], { cwd: root });
  return benchCompiled;
}

/** A compiled benchmark file's path: `benchJs('ack-server')` is dist-bench/bench/ack-server.js. */
export const benchJs = (name: string) => join(root, 'dist-bench/bench', `${name}.js`);

/** argv that runs the bot's CLI with the chart's flags; `heapMB: null` leaves V8's own heap sizing. */
export function botArgv(opts: { heapMB?: number | null } = {}): string[] {
  const heap = opts.heapMB === undefined ? CHART_HEAP_MB : opts.heapMB;
  return [process.execPath, ...(heap ? chartNodeFlags(heap) : []), '--import', join(root, 'bench/heap-sampler.mjs'), join(root, 'dist/src/main.js')];
}

/**
 * Runs argv under /usr/bin/time: wall seconds, peak RSS, the sampler's peak heap, and stdout.
 * A report that fails (the CLI exits 1) is still a measured run: time's line is there either way.
 */
export async function timed(argv: string[], env: Record<string, string> = {}) {
  const { stdout, stderr } = await promisify(execFile)('/usr/bin/time', ['-f', 'TIME %e %M', ...argv], { env: { ...process.env, ...env }, maxBuffer: 1 << 30, cwd: root }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => {
      if (err.code === 1 && err.stderr?.includes('TIME ')) return { stdout: err.stdout ?? '', stderr: err.stderr };
      throw err;
    },
  );
  const m = /TIME ([\d.]+) (\d+)/.exec(stderr);
  const heap = /HEAP_PEAK_BYTES=(\d+)/.exec(stderr);
  return { wallS: Number(m?.[1]), rssMB: Number(m?.[2]) / 1024, heapMB: heap ? Number(heap[1]) / 2 ** 20 : undefined, stdout };
}
