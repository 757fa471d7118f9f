// An Alertmanager alert end to end: the webhook opens an incident thread, the matching
// diagnosis runs against the cluster emulator, and the runbook's remedy is a button that
// goes through the normal confirmation.
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from './cluster.js';
import { alertBody, postAlert, serveAlerts } from './alert-server.js';
import { blocksText, startBot } from './harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Derived from the captured payload: a Vlinders alert about one pod. */
const crashLoopAlert = (pod: string) => alertBody({ alertname: 'KubePodCrashLooping', namespace: 'vlinders-platform', pod, severity: 'critical' }, `{}:{alertname="KubePodCrashLooping",pod="${pod}"}`);

describe('alerts', () => {
  it('open a thread with the diagnosis and a remedy button that asks for approval', async () => {
    const cluster = await startCluster({ crashLoopApiPod: true, gpuNodes: 6, workers: 3, readyDelayMs: 100 });
    closers.push(() => cluster.close());
    const config = clusterConfig();
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents, diagnoses: { KubePodCrashLooping: 'diagnose pod {{pod}}' }, remedies: { KubePodCrashLooping: 'scale-gpu 4' } };
    const bot = await startBot({ config, services: cluster.services });
    closers.push(() => bot.close());
    const alerts = await serveAlerts(bot, config);
    closers.push(() => alerts.close());

    const pod = cluster.world.cluster.broken.crashLoopPod as string;
    const res = await postAlert(alerts.url, crashLoopAlert(pod));
    expect(await res.json()).toEqual({ outcome: 'opened' });

    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts));
    expect(root.text).toContain('FIRING: KubePodCrashLooping');
    const thread = () => bot.emu.threadOf(CHANNELS.incidents, root.ts);
    const diagnosis = await bot.emu.waitFor(() => thread().find((m) => blocksText(m.blocks).includes(`diagnose pod vlinders-platform/${pod}`)));
    expect(blocksText(diagnosis.blocks)).toContain('CrashLoopBackOff');
    // The remedy's offer (the thread also offers to declare an incident).
    const offer = await bot.emu.waitFor(() => thread().find((m) => blocksText(m.blocks).includes('vlinders_suggest') && blocksText(m.blocks).includes('scale-gpu 4')));
    const button = (offer.blocks?.find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string }> }).elements[0];
    expect(button?.value).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    // A viewer pressing it is denied; an admin (operator rights everywhere) gets the card in the thread.
    await bot.click(USERS.viewer, CHANNELS.incidents, offer.ts, button?.action_id ?? '');
    const denied = await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.viewer));
    expect(denied.text).toContain('needs the operator role');
    await bot.click(USERS.admin, CHANNELS.incidents, offer.ts, button?.action_id ?? '');
    const card = await bot.emu.waitFor(() => thread().find((m) => blocksText(m.blocks).includes('vlinders_approve')));
    expect(blocksText(card.blocks)).toContain('3 → 4');
    expect(cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster')?.spec).toMatchObject({ workerGroupSpecs: [{ replicas: 3 }] });
  });
});
