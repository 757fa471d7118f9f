// The secret scan's two halves: every secret value the seeded cluster holds, and everything
// the bot said or logged.
import type { KubeObject } from '../../src/sandbox/kube/contract.js';
import type { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { blocksText, type BotHarness } from './harness.js';

/** Every value of every Secret in the cluster (but user names), base64 and decoded, and each long line of it (PEM keys). */
export function secretValues(kube: KubeApiEmulator): string[] {
  const values: string[] = [];
  for (const s of kube.list('v1', 'Secret') as Array<KubeObject & { data?: Record<string, string> }>) {
    for (const [key, b64] of Object.entries(s.data ?? {})) {
      if (key === 'username') continue; // 'vlinders' is a name, not a secret
      const value = Buffer.from(b64, 'base64').toString('utf8');
      values.push(value, b64, ...value.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')));
    }
  }
  return values;
}

/** Everything the bot said or logged: messages and their updates, ephemerals, uploaded files, the log. */
export const everything = (bot: BotHarness): string =>
  [
    ...bot.emu.messages.flatMap((m) => [m.text, blocksText(m.blocks), ...m.updates.map((u) => `${u.text}${blocksText(u.blocks)}`)]),
    ...bot.emu.ephemerals.map((e) => `${e.text}${blocksText(e.blocks)}`),
    ...bot.emu.uploads.map((u) => `${u.initial_comment ?? ''}${u.content}`),
    bot.log.text(),
  ].join('\n');
