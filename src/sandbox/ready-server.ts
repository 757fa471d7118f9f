// A server process of the Prometheus family (prometheus, prometheus-alertmanager) run for the
// test world: started with argv (never a shell), its stderr's tail kept for errors, ready when
// its /-/ready answers 200, and stopped with SIGTERM (SIGKILL after 5 s) and its temp dir removed.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReadyServer {
  pid: number;
  stop(): Promise<void>;
}

export async function startReadyServer(opts: {
  /** Named in errors ("alertmanager exited at start"). */
  name: string;
  bin: string;
  args: string[];
  /** Its working and data dir, removed when it stops (or fails to start). */
  dir: string;
  /** e.g. http://127.0.0.1:9093; `${url}/-/ready` is polled. */
  url: string;
  env?: NodeJS.ProcessEnv;
  readyWithinMs: number;
}): Promise<ReadyServer> {
  const child = spawn(opts.bin, opts.args, { cwd: opts.dir, stdio: ['ignore', 'ignore', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  let exited = false;
  const exitedP = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  child.on('error', (err) => (log += `\n${err.message}`));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      await Promise.race([exitedP, sleep(5000)]);
      if (!exited) child.kill('SIGKILL');
      await exitedP;
    }
    rmSync(opts.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + opts.readyWithinMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`${opts.name} exited at start:\n${log}`);
    }
    const ready = await fetch(`${opts.url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.name} was not ready after ${opts.readyWithinMs / 1000} s:\n${log}`);
    }
    await sleep(50);
  }
  return { pid: child.pid ?? 0, stop };
}
