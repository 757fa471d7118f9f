// An Alertmanager alert end to end: the webhook opens an incident thread, the matching
// diagnosis runs against the cluster emulator, and the runbook's remedy is a button that
// goes through the normal confirmation.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/core/store.js';
import { alertRoute } from '../../src/incidents/index.js';
import { createLogger } from '../../src/core/log.js';
import { readSharedFixture } from '../fixtures/shared.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from './cluster.js';
import { blocksText, startBot } from './harness.js';

const TOKEN = 'an-alertmanager-token-for-tests';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Derived from the captured payload: a Vlinders alert about one pod. */
function crashLoopAlert(pod: string): string {
  const p = JSON.parse(readSharedFixture('alertmanager/alertmanager_webhook_v4_firing_prometheus-msteams.json')) as Record<string, unknown> & { alerts: Array<{ labels: Record<string, string> }> };
  const labels = { alertname: 'KubePodCrashLooping', namespace: 'vlinders-platform', pod, severity: 'critical' };
  return JSON.stringify({ ...p, groupKey: `{}:{alertname="KubePodCrashLooping",pod="${pod}"}`, groupLabels: { alertname: 'KubePodCrashLooping' }, commonLabels: labels, alerts: p.alerts.map((a) => ({ ...a, labels })) });
}

describe('alerts', () => {
  it('open a thread with the diagnosis and a remedy button that asks for approval', async () => {
    const cluster = await startCluster({ crashLoopApiPod: true, gpuNodes: 6, workers: 3, readyDelayMs: 100 });
    closers.push(() => cluster.close());
    const config = clusterConfig();
    config.alerts = { channel: CHANNELS.incidents, diagnoses: { KubePodCrashLooping: 'diagnose pod {{pod}}' }, remedies: { KubePodCrashLooping: 'scale-gpu 4' } };
    const bot = await startBot({ config, services: cluster.services });
    closers.push(() => bot.close());
    const route = alertRoute(bot.bot, config, new MemoryStore(), TOKEN, createLogger('silent'));
    if (!('handler' in route) || !route.handler) throw new Error(route.reason);
    const handler = route.handler;
    const server: Server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const addr = server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/alertmanager`;

    const pod = cluster.world.cluster.broken.crashLoopPod as string;
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: crashLoopAlert(pod) });
    expect(await res.json()).toEqual({ outcome: 'opened' });

    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts));
    expect(root.text).toContain('FIRING: KubePodCrashLooping');
    const thread = () => bot.emu.threadOf(CHANNELS.incidents, root.ts);
    const diagnosis = await bot.emu.waitFor(() => thread().find((m) => blocksText(m.blocks).includes(`diagnose pod vlinders-platform/${pod}`)));
    expect(blocksText(diagnosis.blocks)).toContain('CrashLoopBackOff');
    const offer = await bot.emu.waitFor(() => thread().find((m) => blocksText(m.blocks).includes('vlinders_suggest')));
    const button = (offer.blocks?.find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string }> }).elements[0];
    expect(button?.value).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    // A viewer pressing it is denied; an admin (operator rights everywhere) gets the card in the thread.
    await bot.click(USERS.viewer, CHANNELS.incidents, offer.ts, button?.action_id ?? '', button?.value ?? '');
    const denied = await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.viewer));
    expect(denied.text).toContain('needs the operator role');
    await bot.click(USERS.admin, CHANNELS.incidents, offer.ts, button?.action_id ?? '', button?.value ?? '');
    const card = await bot.emu.waitFor(() => thread().find((m) => blocksText(m.blocks).includes('vlinders_approve')));
    expect(blocksText(card.blocks)).toContain('3 → 4');
    expect(cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster')?.spec).toMatchObject({ workerGroupSpecs: [{ replicas: 3 }] });
  });
});
