// An incident lives in one ConfigMap, and the apiserver refuses ConfigMap data over 1 MiB: a long
// incident keeps taking updates by dropping its oldest timeline entries, and says how many.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/core/command.js';
import type { Report } from '../../src/core/report.js';
import { Incidents } from '../../src/incidents/incidents.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import type { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { clientFor, emulatorWithNamespace } from '../kube/kube-client.js';

let emu: KubeApiEmulator;
beforeAll(async () => {
  emu = await emulatorWithNamespace('vlinders-ops');
});
afterAll(() => emu.close());

const roots: Report[] = [];
const poster = {
  report: () => Promise.resolve('1700000000.000100'),
  updateReport: (_channel: string, _ts: string, report: Report) => {
    roots.push(report);
    return Promise.resolve();
  },
};

describe('the incident store', () => {
  it('takes 60 long updates without the ConfigMap passing 1 MiB; the root counts what was dropped', async () => {
    const incidents = new Incidents(new ConfigMapStore(clientFor(emu), 'vlinders-ops'), poster, 'C0INCIDENTS');
    const caller: Caller = { userId: 'U0OPS', channelId: 'C0INCIDENTS', surface: 'slack' } as Caller;
    await incidents.open(caller, 'GPU nodes flapping', 2);
    const text = (n: number) => `update ${n}: ${'the node pool keeps flapping; '.repeat(700)}`; // ~20 KB: a pasted log excerpt
    for (let n = 1; n <= 60; n++) await incidents.update(caller, 1, text(n));
    const stored = emu.list('v1', 'ConfigMap', 'vlinders-ops').map((c) => Buffer.byteLength(String((c.data as Record<string, string>).value)));
    expect(Math.max(...stored)).toBeLessThan(1024 * 1024);
    const [incident] = await incidents.list();
    expect(incident?.timeline.at(-1)?.text.slice(0, 200)).toBe(`update: ${text(60)}`.slice(0, 200));
    // Each stored entry is cut (the thread has every update whole), so these 61 fit without dropping;
    // whatever is dropped is counted.
    const dropped = incident?.dropped ?? 0;
    expect(dropped + (incident?.timeline.length ?? 0)).toBe(61);
    const lines = roots.at(-1)?.sections?.find((s) => s.title === 'Timeline')?.lines ?? [];
    expect(lines[0]).toBe(`… ${61 - 15} earlier entries`);
  }, 60_000);
});
