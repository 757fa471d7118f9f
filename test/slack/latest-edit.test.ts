// Edits of one message asked for while one is on its way collapse into the newest: an alert
// storm's summary, edited for each new group, costs a few chat.update calls, not one per group.
import { describe, expect, it } from 'vitest';
import { LatestEdit } from '../../src/slack/latest-edit.js';

/** An edit that records itself when it starts and finishes when the test says. */
function gatedEdits() {
  const sent: string[] = [];
  const gates: Array<() => void> = [];
  const edit = (text: string, fail = false) => () =>
    new Promise<void>((resolve, reject) => {
      sent.push(text);
      gates.push(() => (fail ? reject(new Error(`${text} refused`)) : resolve()));
    });
  const openNext = async () => {
    for (let i = 0; i < 10 && gates.length === 0; i++) await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  };
  return { sent, edit, openNext };
}

describe('LatestEdit', () => {
  it('while an edit is on its way, later ones wait as one and only the newest is sent; every asker hears when its change is shown', async () => {
    const edits = new LatestEdit();
    const { sent, edit, openNext } = gatedEdits();
    const settled: string[] = [];
    const ask = (text: string) => edits.edit('C1/1.0001', edit(text)).then(() => void settled.push(text));
    const all = [ask('1 more'), ask('2 more'), ask('3 more'), ask('4 more')];
    expect(sent).toEqual(['1 more']);
    await openNext();
    await openNext();
    await Promise.all(all);
    expect(sent).toEqual(['1 more', '4 more']);
    expect(settled.sort()).toEqual(['1 more', '2 more', '3 more', '4 more']);
    // Another message has its own turn, and a quiet message starts afresh.
    const other = edits.edit('C1/2.0002', edit('other'));
    const again = edits.edit('C1/1.0001', edit('5 more'));
    expect(sent).toEqual(['1 more', '4 more', 'other', '5 more']);
    await openNext();
    await openNext();
    await Promise.all([other, again]);
  });

  it('a failed edit fails those it stood for, and the next newest is still sent', async () => {
    const edits = new LatestEdit();
    const { sent, edit, openNext } = gatedEdits();
    const first = edits.edit('C1/1.0001', edit('first', true));
    const second = edits.edit('C1/1.0001', edit('second'));
    const firstFailed = expect(first).rejects.toThrow('first refused');
    await openNext();
    await firstFailed;
    await openNext();
    await second;
    expect(sent).toEqual(['first', 'second']);
  });

  it('an edit that throws before its first await fails alone', async () => {
    const edits = new LatestEdit();
    await expect(
      edits.edit('C1/1.0001', () => {
        throw new Error('no such message');
      }),
    ).rejects.toThrow('no such message');
    await expect(edits.edit('C1/1.0001', async () => undefined)).resolves.toBeUndefined();
  });
});
