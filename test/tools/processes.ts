// What a process tree holds, read from /proc (Linux): its descendants and the TCP sockets they
// listen on. The console tests use it to check `npm start` binds loopback only and leaves nothing.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The parent pid of `pid`, or undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    // comm (field 2) may hold spaces and parentheses: the fields after the last ')' are safe.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

const pids = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);

/** Every live process below `root` (children, grandchildren, …), not `root` itself. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of pids()) {
    const parent = parentOf(pid);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

export function isAlive(pid: number): boolean {
  // A zombie has exited; only its parent's wait is missing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface Listener {
  pid: number;
  /** The local address: 127.0.0.1, 0.0.0.0; IPv6 uncompressed (0:0:0:0:0:0:0:1). */
  address: string;
  port: number;
  inode: string;
}

/** /proc/net/tcp{,6} hold addresses as hex in host byte order, 32 bits at a time. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopback(address: string): boolean {
  return /^(::ffff:)?127\./.test(address) || address === '0:0:0:0:0:0:0:1';
}

const TCP_LISTEN = '0A';

/** The TCP sockets in LISTEN state held open by any of `pidList`. */
export function listenersOf(pidList: readonly number[]): Listener[] {
  const owner = new Map<string, number>();
  for (const pid of pidList) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) owner.set(inode, pid);
      } catch {
        // Closed while we looked.
      }
    }
  }
  const found: Listener[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, state, inode] = [f[1], f[3], f[9]];
      if (!local || state !== TCP_LISTEN || !inode) continue;
      const pid = owner.get(inode);
      if (pid === undefined) continue;
      const [addr, port] = local.split(':');
      found.push({ pid, address: decodeAddress(addr ?? ''), port: parseInt(port ?? '0', 16), inode });
    }
  }
  return found;
}

/** Every TCP socket listening now, by inode (to see whether one is still open). */
export function listeningInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === TCP_LISTEN && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}
