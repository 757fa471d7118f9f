// `npm start` as a newcomer runs it, with no Slack tokens and no kubeconfig: the console, its
// bot and the sandbox listen on loopback only, and SIGTERM or SIGINT to npm stops every
// process it started (npm → sh → node), leaving no socket open.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findAlertmanager } from '../../src/sandbox/alertmanager/server.js';
import { eventually } from '../http/helpers.js';
import { descendantsOf, isAlive, isLoopback, listenersOf, listeningInodes } from '../tools/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 120_000;

let started: ChildProcess | undefined;
afterEach(() => {
  // A failed run must not leave a console behind: its own process group goes.
  if (started?.pid && started.exitCode === null) {
    try {
      process.kill(-started.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  started = undefined;
});

/** `npm start` on port 0, in its own process group; resolves with the console's URL once it prints it. */
async function npmStart(): Promise<{ npm: ChildProcess; url: URL; output: () => string }> {
  const home = mkdtempSync(join(tmpdir(), 'console-start-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    PORT: '0',
    // Nothing from this machine: no config file, no kubeconfig, no Slack app.
    VLINDERS_OPS_CONFIG: join(home, 'none.yaml'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
  };
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started = npm;
  let text = '';
  npm.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  npm.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no console URL in ${START_TIMEOUT_MS / 1000} s:\n${text}`)), START_TIMEOUT_MS);
    const look = () => {
      const m = /vlinders-ops console: (http:\/\/\S+)/.exec(text);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    };
    npm.stdout?.on('data', look);
    npm.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited ${code}:\n${text}`));
    });
  });
  return { npm, url, output: () => text };
}

describe('npm start (the console)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'listens on loopback only, and %s to npm stops every process it started',
    async (signal) => {
      const { npm, url, output } = await npmStart();
      const npmPid = npm.pid as number;
      const children = descendantsOf(npmPid);
      // The sandbox's real Alertmanager, where installed, is one of them (and so must stop too).
      const commandOf = (pid: number) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
        } catch {
          return ''; // a short-lived child, gone already
        }
      };
      expect(children.filter((pid) => commandOf(pid).endsWith('alertmanager'))).toHaveLength(findAlertmanager() ? 1 : 0);
      const listeners = listenersOf([npmPid, ...children]);
      // The page, the bot's HTTP receiver, the Slack workspace emulator, the sandbox's apiserver and Ray dashboard at least.
      expect(listeners.map((l) => l.port)).toContain(Number(url.port));
      expect(listeners.length).toBeGreaterThanOrEqual(5);
      expect(listeners.filter((l) => !isLoopback(l.address)).map((l) => `${l.address}:${l.port}`)).toEqual([]);

      // Only npm gets the signal, as from a process manager (Ctrl-C in a terminal signals the whole group).
      process.kill(npmPid, signal);
      const code = await new Promise<number | null>((resolve) => (npm.exitCode !== null ? resolve(npm.exitCode) : npm.on('exit', (c) => resolve(c))));
      await eventually(async () => children.every((pid) => !isAlive(pid)), 20_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}: still running ${children.filter(isAlive).join(', ')}\n${output()}`);
      });
      const open = listeningInodes();
      expect(listeners.filter((l) => open.has(l.inode))).toEqual([]);
      expect(code, output()).toBe(0);
    },
    2 * START_TIMEOUT_MS,
  );
});
