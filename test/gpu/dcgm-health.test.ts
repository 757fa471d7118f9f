// gpu health's reading of DCGM findings without Prometheus: NVIDIA's action per XID, which
// findings make a node to drain, that a label becomes a button only as a valid node name, and
// `--since` as a duration or a time. The same code on the real Prometheus is in
// test/prometheus/slo-gpu-health.test.ts.
import { describe, expect, it } from 'vitest';
import { sinceRange } from '../../commands/gpu-health.js';
import { gpuHealthReport, type GpuHealthReading, type XidSeen } from '../../src/gpu/dcgm-health.js';
import { XID_ACTION_TEXT, xidEntry } from '../../src/gpu/xid.js';

const NOW = Date.UTC(2026, 11, 6, 3, 0, 0);
const xid = (node: string, code: number, gpu = '0'): XidSeen => ({ node, gpu, uuid: `GPU-${node}-${gpu}`, model: 'NVIDIA H100 80GB HBM3', code, lastSeen: NOW / 1000 - 600 });
const reading = (over: Partial<GpuHealthReading>): GpuHealthReading => ({ since: '24h', xids: [], findings: [], gpusReporting: 8, nodesReporting: 8, unread: [], ...over });
const offered = (r: GpuHealthReading) => gpuHealthReport(r, { now: NOW }).offers.map((o) => o.words.join(' '));

describe("NVIDIA's action per XID", () => {
  it('the catalog codes the runbook names', () => {
    expect(XID_ACTION_TEXT[xidEntry(79).action]).toBe('drain, then reset the GPU or service the node');
    expect(xidEntry(48)).toMatchObject({ name: 'Double-bit ECC error', action: 'reset-gpu' });
    expect(xidEntry(94)).toMatchObject({ name: 'Contained ECC error', action: 'restart-app' });
    expect(xidEntry(95)).toMatchObject({ name: 'Uncontained ECC error', action: 'reset-gpu' });
    for (const app of [13, 31, 43]) expect(xidEntry(app).action).toBe('restart-app');
  });

  it('drain-class XIDs make the node one to cordon and drain; application XIDs do not', () => {
    expect(offered(reading({ xids: [xid('gpu-a', 79), xid('gpu-b', 13), xid('gpu-c', 95)] }))).toEqual(['node cordon gpu-a', 'node drain gpu-a', 'node cordon gpu-c', 'node drain gpu-c']);
    const app = gpuHealthReport(reading({ xids: [xid('gpu-b', 13)] }), { now: NOW });
    expect(app.status).toBe('warn');
    expect(app.offers).toEqual([]);
  });

  it('an XID missing from the table points to the catalog and offers nothing', () => {
    const r = gpuHealthReport(reading({ xids: [xid('gpu-a', 154)] }), { now: NOW });
    expect(r.sections[0]?.rows?.[0]?.[4]).toContain('https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html');
    expect(r.offers).toEqual([]);
  });

  it('row-remap failure and new double-bit errors are drain-class too; throttling is a warning', () => {
    const f = (node: string, kind: GpuHealthReading['findings'][number]['kind'], value = 1) => ({ node, gpu: '0', uuid: 'GPU-x', model: '', kind, value });
    const r = gpuHealthReport(reading({ findings: [f('gpu-a', 'row-remap-failure'), f('gpu-b', 'dbe-volatile', 2), f('gpu-c', 'thermal', 600)] }), { now: NOW });
    expect(r.drainNodes).toEqual(['gpu-a', 'gpu-b']);
    expect(r.lines).toContain('⚠️ gpu-c GPU 0 (GPU-x): thermally throttled for about 10 min (SW/HW thermal slowdown): check cooling and airflow');
  });
});

describe('labels are outside data', () => {
  it('a node label that is not a Kubernetes node name never becomes a button', () => {
    const hostile = ['gpu-a --all', '<!channel>', 'GPU-A', 'a'.repeat(254), '-gpu'];
    expect(offered(reading({ xids: hostile.map((n) => xid(n, 79)) }))).toEqual([]);
    // The report still names them.
    expect(gpuHealthReport(reading({ xids: [xid('<!channel>', 79)] }), { now: NOW }).sections[0]?.rows?.[0]?.[0]).toBe('<!channel>');
  });

  it('at most five nodes get buttons; the headline says there are more', () => {
    const r = gpuHealthReport(reading({ xids: Array.from({ length: 7 }, (_, i) => xid(`gpu-${i}`, 79)) }), { now: NOW });
    expect(r.offers).toHaveLength(10);
    expect(r.headline).toContain('7 nodes to drain: gpu-0, gpu-1, gpu-2, gpu-3, gpu-4, …');
  });
});

describe('gpu health --since', () => {
  it('takes a duration or a UTC time, and refuses the future, more than 31 days, and anything else', () => {
    expect(sinceRange('7d', NOW)).toBe('7d');
    expect(sinceRange('2026-12-05T03:00Z', NOW)).toBe('86400s');
    expect(() => sinceRange('2026-12-07T03:00Z', NOW)).toThrow('is in the future');
    expect(() => sinceRange('40d', NOW)).toThrow('more than 31 days');
    expect(() => sinceRange('2026-10-01T00:00Z', NOW)).toThrow('more than 31 days');
    expect(() => sinceRange('1h) or vector(1', NOW)).toThrow('expects a duration');
  });
});
