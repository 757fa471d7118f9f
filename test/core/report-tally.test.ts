// A headline counts what its report's lines mark, so it never says "all healthy" above a ❌.
import { describe, expect, it } from 'vitest';
import { tallyLine, tallyProblems } from '../../src/core/report.js';

describe('tallyProblems', () => {
  it('counts ❌ and ⚠️ items in lines, rows and field values, and what could not be read', () => {
    const tally = tallyProblems([
      { lines: ['3 GPUs in 3/3 workers', '❌ gpu 1 on vlinders-gpu-2 is at 91 °C', '⚠️ not read: the Ray dashboard answered 500'] },
      { rows: [['❌ pod api-1', 'CrashLoopBackOff'], ['postgres-0', 'Running']] },
      { fields: [{ label: 'P95', value: 'not measured: Prometheus timed out' }, { label: 'Queue', value: '⚠️ 40 waiting' }] },
    ]);
    expect(tally).toEqual({ fail: 2, warn: 1, unread: 2 });
    expect(tallyLine(tally)).toBe('2 ❌ · 1 ⚠️ · 2 not read');
  });

  it('is clean for clean lines, and a source left unconfigured on purpose is not a failure to read', () => {
    const tally = tallyProblems([{ lines: ['9/9 nodes Ready', 'not measured: prometheus.url is not configured'] }, { fields: [{ label: 'GPUs', value: '✅ 6 free' }] }]);
    expect(tally).toEqual({ fail: 0, warn: 0, unread: 0 });
    expect(tallyLine(tally)).toBe('');
  });
});
