// A seeded kube-apiserver emulator in its own process, so its memory and CPU are not
// counted against the client being measured. Args: nodes pods kubeconfig-path.
// Prints one JSON line {ready, url} on stdout; exits when stdin closes.
import { KubeApiEmulator } from '../src/sandbox/kube/index.js';
import { seedVlindersCluster } from '../src/sandbox/kube/world/index.js';

const [nodes, pods, kubeconfigPath] = process.argv.slice(2) as [string, string, string];
const emu = await KubeApiEmulator.start();
const started = performance.now();
const seeded = seedVlindersCluster(emu, { extraCpuNodes: Math.max(0, Number(nodes) - 7), extraPods: Math.max(0, Number(pods) - 60) });
await emu.writeKubeconfig(kubeconfigPath);
process.stdout.write(`${JSON.stringify({ ready: true, url: emu.url, nodes: seeded.counts.nodes, pods: seeded.counts.pods, seedMs: Math.round(performance.now() - started) })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void emu.close().then(() => process.exit(0)));
