// The README's `silence …` examples name the console's demo alert group: the id they carry is
// the one the bot gives the group Alertmanager delivers (alertGroupId of its groupKey).
import { describe, expect, it } from 'vitest';
import silenceAdd from '../../commands/silence-add.js';
import silenceExpire from '../../commands/silence-expire.js';
import { alertGroupId } from '../../src/incidents/alert-threads.js';
import { SANDBOX_DEMO_GROUP } from '../../src/incidents/silences.js';
import { DEMO_GROUP_KEY, rootGroupKey } from '../../src/sandbox/alertmanager/demo.js';

describe("the console's demo alert group", () => {
  it('is the group the silence examples name', () => {
    expect(alertGroupId(DEMO_GROUP_KEY)).toBe(SANDBOX_DEMO_GROUP);
    const examples = [...(silenceAdd.examples ?? []), ...(silenceExpire.examples ?? [])];
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(example.split(' ')[2]).toBe(alertGroupId(DEMO_GROUP_KEY));
  });

  it("has Alertmanager's groupKey for the root route: its group_by labels, sorted and quoted", () => {
    // As Alertmanager 0.25 sends it (test/console/console.test.ts sees the real one deliver the demo group under this id).
    expect(rootGroupKey(['namespace', 'alertname', 'cluster'], { alertname: 'A', namespace: 'n', severity: 'warning' })).toBe('{}:{alertname="A", namespace="n"}');
  });
});
