// Small PromQL helpers shared by `slo` and `gpu health`: durations as Prometheus writes them,
// and selectors built from a metric name plus label matchers from the config.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "30m", "1h", "7d" in seconds; undefined for anything else. */
export function durationSeconds(text: string): number | undefined {
  const m = /^([1-9]\d{0,5})([smhd])$/.exec(text);
  return m ? Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0) : undefined;
}

/** `metric{a="b",c=~"d"}`; empty matchers are left out. */
export function selector(metric: string, ...matchers: string[]): string {
  const inner = matchers.map((m) => m.trim().replace(/,$/, '')).filter(Boolean).join(',');
  return inner ? `${metric}{${inner}}` : metric;
}

/** A PromQL string literal. */
export function quoted(value: string): string {
  return JSON.stringify(value);
}
