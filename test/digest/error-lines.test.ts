import { describe, expect, it } from 'vitest';
import { ErrorCounter, isErrorLine, normaliseError } from '../../src/digest/error-lines.js';

describe('ErrorCounter', () => {
  it('counts ERROR lines per pod and groups messages that differ only in ids and numbers', () => {
    const c = new ErrorCounter();
    c.add('a', '2026-11-25T08:00:00.000Z ERROR [vlinders.api] upstream timeout after 30.0s request_id=deadbeef');
    c.add('a', '2026-11-25T08:00:05.000Z ERROR [vlinders.api] upstream timeout after 31.5s request_id=cafebabe');
    c.add('a', '2026-11-25T08:00:10.000Z INFO  [vlinders.api] GET /v1/models 200 20ms');
    c.add('b', '2026-11-25T08:00:10.000Z WARN  [vlinders.api] ERROR budget low');
    c.add('b', '2026-11-25T08:00:15.000Z ERROR [vlinders.db] connection failed');
    const t = c.tally();
    expect(t.total).toBe(3);
    expect(t.perPod).toEqual([
      { pod: 'a', errors: 2, lines: 3 },
      { pod: 'b', errors: 1, lines: 2 },
    ]);
    expect(t.top[0]).toEqual({ message: '[vlinders.api] upstream timeout after #s request_id=…', count: 2 });
  });

  it("keeps what it counted of a log that broke off, and names the pods it couldn't read", async () => {
    const c = new ErrorCounter();
    async function* brokenOff() {
      yield '2026-11-25T08:00:00.000Z ERROR [vlinders.api] upstream timeout';
      yield '2026-11-25T08:00:01.000Z INFO  [vlinders.api] GET / 200';
      throw new Error('connection reset');
    }
    await expect(c.addStream('b', brokenOff())).rejects.toThrow('connection reset');
    c.markUnread('b', 'connection reset');
    // A log that fails before its first line.
    await expect(c.addStream('a', (async function* () { throw new Error('i/o timeout'); })())).rejects.toThrow('i/o timeout');
    c.markUnread('a', 'i/o timeout');
    const t = c.tally();
    expect(t.perPod).toEqual([{ pod: 'b', errors: 1, lines: 2 }]);
    expect(t.total).toBe(1);
    expect(t.unread).toEqual([
      { pod: 'a', lines: 0, error: 'i/o timeout' },
      { pod: 'b', lines: 2, error: 'connection reset' },
    ]);
  });

  it('keeps its map bounded however many distinct messages arrive', () => {
    const c = new ErrorCounter(10);
    for (let i = 0; i < 1000; i++) c.add('p', `2026-11-25T08:00:00Z ERROR unique message ${'x'.repeat(i % 50)}${String.fromCharCode(97 + (i % 26))}`);
    expect(c.distinctMessages).toBe(10);
    expect(c.tally().total).toBe(1000);
    expect(c.tally().otherMessages).toBeGreaterThan(0);
  });

  it('recognises the level only where a log puts it', () => {
    expect(isErrorLine('2026-11-25T08:00:00Z ERROR x')).toBe(true);
    expect(isErrorLine('ts=1 level=error msg=x')).toBe(true);
    expect(isErrorLine('ERROR at the start')).toBe(true);
    expect(isErrorLine('2026-11-25T08:00:00Z INFO  body mentions ERROR far later in a long line, past the level column of any log format we read')).toBe(false);
    expect(normaliseError('2026-11-25T08:00:00.000Z ERROR [db] failed after 3 tries')).toBe('[db] failed after # tries');
  });
});
