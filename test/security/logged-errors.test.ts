// Issue 13 item 5: an unexpected error inside a command is logged whole. The user is told
// "Internal error (id …); the details are in the bot's log", so the log line with that id
// must hold the message, the stack and the cause, and nothing secret.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commands } from '../../commands/index.js';
import { defineCommand } from '../../src/core/command.js';
import { createLogger } from '../../src/core/log.js';
import { fixedClusters } from '../../src/kube/directory.js';
import { boltLogger } from '../../src/slack/log.js';
import { buildEngine } from '../../src/wiring.js';
import { captureLog, noIO, slackCaller } from '../fixtures/engine.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';

class ApiClientError extends Error {
  override name = 'ApiClientError';
  constructor(
    message: string,
    readonly code: string,
    readonly statusCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function throwingCommand() {
  return defineCommand({
    name: 'test-crash',
    summary: 'Fails with an error nobody expected',
    usage: 'test-crash',
    args: z.object({}),
    role: 'viewer',
    risk: 'read',
    run: async () => {
      const socket = Object.assign(new Error('read ECONNRESET while talking to postgres://vlinders:cause-pass-77@postgres-0:5432/vlinders'), { code: 'ECONNRESET' });
      throw new ApiClientError('listing the Ray workers failed: unexpected answer {"password":"hunter2-json"}', 'E_RAY_LIST', 502, { cause: socket });
    },
  });
}

function engineWithCrash() {
  const { stream, captured } = captureLog();
  const engine = buildEngine({ config: testConfig(), commands: [...commands, throwingCommand()], log: createLogger('info', stream), services: fixedClusters([]) });
  return { engine, log: captured };
}

describe('a command that throws unexpectedly', () => {
  it('tells the user an error id, and the log line with that id holds message, stack and cause, redacted', async () => {
    const { engine, log } = engineWithCrash();
    const out = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.ops), 'test-crash', noIO());
    expect(out.kind).toBe('report');
    if (out.kind !== 'report') return;
    const errorId = /Internal error \(id ([0-9a-f]+)\)/.exec(out.report.summary ?? '')?.[1];
    expect(errorId).toBeDefined();

    const line = log.lines.find((l) => l.errorId === errorId);
    expect(line, 'no log line carries the error id the user was given').toBeDefined();
    const err = line?.err as Record<string, unknown>;
    expect(err).not.toEqual({});
    expect(err.type).toBe('ApiClientError');
    expect(err.message).toContain('listing the Ray workers failed');
    expect(err.code).toBe('E_RAY_LIST');
    expect(err.statusCode).toBe(502);
    expect(String(err.stack)).toMatch(/ApiClientError: listing the Ray workers failed[\s\S]*\n\s+at /);
    const cause = err.cause as Record<string, unknown>;
    expect(cause.message).toContain('read ECONNRESET');
    expect(cause.code).toBe('ECONNRESET');
    expect(String(cause.stack)).toContain('\n    at ');

    const text = log.text();
    for (const secret of ['hunter2-json', 'cause-pass-77']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
  });

  it('log.error(err) with no message still logs the error whole, and its message redacted', () => {
    const { stream, captured } = captureLog();
    const log = createLogger('info', stream);
    log.error(new Error('token=tok-secret-123456 rejected'));
    const [line] = captured.lines;
    expect(line?.msg).toBe('token=[REDACTED] rejected');
    expect((line?.err as Record<string, unknown>).message).toBe('token=[REDACTED] rejected');
    expect(captured.text()).not.toContain('tok-secret-123456');
  });

  it("Bolt's own error logs keep the stack", () => {
    const { stream, captured } = captureLog();
    const bolt = boltLogger(createLogger('info', stream));
    bolt.error('An unhandled error occurred while Bolt processed an event', new Error('socket hang up (xoxb-1111111111-boltsecret)'));
    const [line] = captured.lines;
    const err = line?.err as Record<string, unknown>;
    expect(String(err.stack)).toContain('socket hang up');
    expect(String(err.stack)).toContain('\n    at ');
    expect(captured.text()).not.toContain('xoxb-1111111111-boltsecret');
  });

  it("Bolt's lines below the level are neither written nor built (its debug line on every ack costs nothing)", () => {
    const { stream, captured } = captureLog();
    const bolt = boltLogger(createLogger('info', stream));
    let built = 0;
    const body = { toJSON: () => (built++, { text: 'help' }) };
    bolt.debug('ack() call begins (body:', body, ')');
    expect(built).toBe(0);
    expect(captured.lines).toHaveLength(0);
    bolt.info('a line at the level', body);
    expect(built).toBe(1);
    expect(captured.lines[0]?.msg).toBe('a line at the level {"text":"help"}');
  });
});
