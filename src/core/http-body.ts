// A fetch Response's body as text, read up to a limit: answers of outside APIs are held in
// memory to be parsed, so one that is far too big (a query that selects everything, a proxy's
// error page stream) is cut off at `maxBytes` instead of filling the heap.
export async function readBodyCapped(res: Response, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { text: '', cut: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), cut: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
}
