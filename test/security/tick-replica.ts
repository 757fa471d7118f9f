// One bot replica as its own process, for scheduler-ticks.test.ts to SIGKILL: it takes the
// Lease, claims the tick through the ConfigMap store and runs a job that stops at `step`
// ("claimed": right after the claim; "root": after posting its root and writing the marker),
// says so on stdout, and waits there to be killed. Its settings come on stdin as JSON.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.js';
import { LeaderElector } from '../../src/kube/leader.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { Scheduler } from '../../src/schedule/scheduler.js';

interface ReplicaSettings {
  kubeconfig: string;
  identity: string;
  leaseName: string;
  leaseSeconds: number;
  claimLeaseMs: number;
  nowMs: number;
  step: 'claimed' | 'root';
}

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const settings = JSON.parse(input) as ReplicaSettings;
const kc = new KubeConfig();
kc.loadFromString(settings.kubeconfig);
const kube = new KubeClient(settings.identity, kc, 5_000);
const now = () => settings.nowMs;
const elector = new LeaderElector(kube, { namespace: 'vlinders-ops', name: settings.leaseName, identity: settings.identity, leaseSeconds: settings.leaseSeconds, now });
if (!(await elector.tryOnce())) throw new Error(`${settings.identity} did not get the Lease`);
const scheduler = new Scheduler({
  store: new ConfigMapStore(kube, 'vlinders-ops'),
  isLeader: () => elector.isLeader(),
  identity: settings.identity,
  claimLeaseMs: settings.claimLeaseMs,
  timezone: 'UTC',
  graceMinutes: 120,
  now,
  jobs: [
    {
      name: 'daily',
      cron: '0 8 * * *',
      run: async (_tick, attempt) => {
        if (settings.step === 'root') await attempt.markRoot(`root-of-${settings.identity}`);
        process.stdout.write(`${settings.step}\n`);
        // Killed here: the job never finishes.
        await new Promise(() => setInterval(() => undefined, 60_000));
      },
    },
  ],
});
await scheduler.poll();
