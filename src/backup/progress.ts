// Progress lines for long streams: bytes, rate and elapsed time, at most one line per interval
// so a fast dump doesn't flood the thread.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export function formatRate(bytes: number, ms: number): string {
  return `${formatBytes(ms > 0 ? (bytes * 1000) / ms : 0)}/s`;
}

export class ProgressTicker {
  private started: number;
  private last = 0;

  constructor(
    private post: (text: string) => Promise<void>,
    private what: string,
    private intervalMs = 5000,
    private now: () => number = Date.now,
  ) {
    this.started = now();
    this.last = this.started;
  }

  get elapsedMs(): number {
    return this.now() - this.started;
  }

  /** Posts "<what>: 1.2 GiB (300 MiB gzip), 45 MiB/s, 27s" when the interval has passed. */
  tick(bytes: number, extra?: string): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    void this.post(this.line(bytes, extra)).catch(() => undefined);
  }

  line(bytes: number, extra?: string): string {
    const elapsed = this.elapsedMs;
    return `${this.what}: ${formatBytes(bytes)}${extra ? ` (${extra})` : ''}, ${formatRate(bytes, elapsed)}, ${formatDuration(elapsed)} elapsed`;
  }
}
