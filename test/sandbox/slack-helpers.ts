// Shared bits of the Slack emulator tests.
import { LogLevel, type Logger } from '@slack/web-api';
import { readCaptured } from '../fixtures/captured.js';

export function fixture(name: string): string {
  return readCaptured(`slack/${name}`);
}

/** A logger that keeps what Slack's clients say instead of printing it, so tests can assert on it. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  let level = LogLevel.INFO;
  const keep =
    (lvl: string) =>
    (...msg: unknown[]) => {
      lines.push(`${lvl} ${msg.map(String).join(' ')}`);
    };
  return {
    lines,
    debug: () => {},
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
