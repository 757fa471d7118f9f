// Small wording helpers the digests share.

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Bytes in binary units, 3 significant digits: 1.5 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? String(Math.round(value)) : value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${bytes < 0 ? '-' : ''}${shown} ${units[unit]}`;
}

/** A signed change, e.g. "+1.20 GiB" or "-300 MiB". */
export const formatByteChange = (bytes: number) => (bytes >= 0 ? `+${formatBytes(bytes)}` : formatBytes(bytes));

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
