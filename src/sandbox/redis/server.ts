// An in-process Redis for the sandbox: RESP over TCP on loopback, answering what the bot asks
// (PING, AUTH, QUIT) the way redis-server does, and refusing anything else with Redis' own
// error. The tests use the real redis-server (test/tools/redis.ts); this is for the console
// and the CLI's --sandbox, where redis-server may not be installed.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RedisStub {
  /** host:port, as config platform.redis wants it. */
  address: string;
  close(): Promise<void>;
}

/** Reads one RESP array of bulk strings (`*N\r\n$len\r\narg\r\n…`) off the front of `buffer`. */
export function readCommand(buffer: string): { args: string[]; rest: string } | undefined {
  if (!buffer.startsWith('*')) {
    // Inline command (what `telnet` or `redis-cli` without RESP send).
    const end = buffer.indexOf('\r\n');
    return end < 0 ? undefined : { args: buffer.slice(0, end).trim().split(/\s+/).filter(Boolean), rest: buffer.slice(end + 2) };
  }
  let at = buffer.indexOf('\r\n');
  if (at < 0) return undefined;
  const count = Number(buffer.slice(1, at));
  let pos = at + 2;
  const args: string[] = [];
  for (let i = 0; i < count; i++) {
    at = buffer.indexOf('\r\n', pos);
    if (at < 0 || buffer[pos] !== '$') return undefined;
    const len = Number(buffer.slice(pos + 1, at));
    const start = at + 2;
    if (buffer.length < start + len + 2) return undefined;
    args.push(buffer.slice(start, start + len));
    pos = start + len + 2;
  }
  return { args, rest: buffer.slice(pos) };
}

function answer(args: string[], password: string | undefined, authed: { ok: boolean }): string {
  const [name = '', ...rest] = args;
  switch (name.toUpperCase()) {
    case 'AUTH':
      if (!password) return '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n';
      if (rest.at(-1) !== password) return '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
      authed.ok = true;
      return '+OK\r\n';
    case 'PING':
      if (!authed.ok) return '-NOAUTH Authentication required.\r\n';
      return rest.length ? `$${Buffer.byteLength(rest[0]!)}\r\n${rest[0]}\r\n` : '+PONG\r\n';
    case 'QUIT':
      return '+OK\r\n';
    default:
      if (!authed.ok) return '-NOAUTH Authentication required.\r\n';
      return `-ERR unknown command '${name.slice(0, 64)}', with args beginning with: \r\n`;
  }
}

export async function startRedisStub(opts: { password?: string } = {}): Promise<RedisStub> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setEncoding('utf8');
    const authed = { ok: !opts.password };
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      // Redis' own query buffer limit is 1 GB; a sandbox needs far less.
      if (buffer.length > 64 * 1024) return socket.destroy();
      for (let cmd = readCommand(buffer); cmd; cmd = readCommand(buffer)) {
        buffer = cmd.rest;
        socket.write(answer(cmd.args, opts.password, authed));
        if (cmd.args[0]?.toUpperCase() === 'QUIT') return socket.end();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
