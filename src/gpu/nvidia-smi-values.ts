// How nvidia-smi writes a single value, shared by the CSV and table readers.

/**
 * The value, or undefined when nvidia-smi says there is none: `N/A`, and any bracketed
 * placeholder (`[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]`,
 * `[Requested functionality has been deprecated]`).
 */
export function presentValue(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value || value === 'N/A' || /^\[.*\]$/.test(value)) return undefined;
  return value;
}

/** A number with or without its unit, as in `19818 MiB`, `19818MiB`, `100 %`, `631.95 W`, `59C`, `59`. */
export function numberValue(raw: string | undefined): number | undefined {
  const value = presentValue(raw);
  if (value === undefined) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)\s*(?:[A-Za-z%]+)?$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** An integer, or undefined: pids, indices and counts are never fractional. */
export function integerValue(raw: string | undefined): number | undefined {
  const n = numberValue(raw);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/** `Enabled`/`Disabled` as nvidia-smi writes modes (MIG, ECC). */
export function isEnabled(raw: string | undefined): boolean {
  return presentValue(raw)?.toLowerCase() === 'enabled';
}

// NVML's clock event reason bits (nvmlClocksEventReason*), named as --query-gpu names them.
const CLOCK_EVENT_REASONS: ReadonlyArray<readonly [bigint, string]> = [
  [0x1n, 'gpu_idle'],
  [0x2n, 'applications_clocks_setting'],
  [0x4n, 'sw_power_cap'],
  [0x8n, 'hw_slowdown'],
  [0x10n, 'sync_boost'],
  [0x20n, 'sw_thermal_slowdown'],
  [0x40n, 'hw_thermal_slowdown'],
  [0x80n, 'hw_power_brake_slowdown'],
  [0x100n, 'display_clock_setting'],
];

/** The active reasons in a bitmask like `0x0000000000000001`; undefined when not a bitmask. */
export function clockEventReasons(raw: string | undefined): string[] | undefined {
  const value = presentValue(raw);
  if (value === undefined || !/^0x[0-9a-f]+$/i.test(value)) return undefined;
  const mask = BigInt(value);
  const names = CLOCK_EVENT_REASONS.filter(([bit]) => (mask & bit) !== 0n).map(([, name]) => name);
  const known = CLOCK_EVENT_REASONS.reduce((all, [bit]) => all | bit, 0n);
  if ((mask & ~known) !== 0n) names.push(`unknown(0x${(mask & ~known).toString(16)})`);
  return names;
}
