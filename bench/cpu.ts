// CPU seconds of a process from /proc (Linux): its own, and its children's once they were
// waited for (pg_dump and igzip for the bot, exited backends for the postmaster).
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (getconf CLK_TCK: 100 on Linux). */
const TICKS = 100;

export function cpuSeconds(pid: number | 'self'): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const at = (field: number) => (f[field - 3] ?? 0) / TICKS;
  return { own: at(14) + at(15), children: at(16) + at(17) };
}
