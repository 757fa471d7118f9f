// The capped body reader every JSON-over-HTTP client here uses: whole up to the limit, cut
// (and the stream cancelled) beyond it, across chunk boundaries.
import { describe, expect, it } from 'vitest';
import { readBodyCapped } from '../../src/core/http-fetch.js';

function response(chunks: string[]): { res: Response; cancelled: () => boolean } {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(new TextEncoder().encode(next));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { res: new Response(stream), cancelled: () => cancelled };
}

describe('readBodyCapped', () => {
  it('reads a body up to the limit whole, in any chunking', async () => {
    expect(await readBodyCapped(response(['{"a":', '1}']).res, 7)).toEqual({ text: '{"a":1}', cut: false });
    expect(await readBodyCapped(new Response(null), 10)).toEqual({ text: '', cut: false });
  });

  it('cuts a longer one at the chunk that crosses the limit and cancels the rest', async () => {
    const r = response(['12345', '67890', 'abcdef', 'never read']);
    expect(await readBodyCapped(r.res, 12)).toEqual({ text: '1234567890', cut: true });
    expect(r.cancelled()).toBe(true);
  });
});
