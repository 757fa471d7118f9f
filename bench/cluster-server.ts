// A seeded kube-apiserver emulator in its own process, so its memory and CPU are not
// counted against the client being measured. Args: nodes pods kubeconfig-path [world]; with
// `world`, the controllers run too (Jobs complete, as preflight's model-files check needs).
// Prints one JSON line {ready, url} on stdout; exits when stdin closes.
import { KubeApiEmulator } from '../src/sandbox/kube/index.js';
import { seedVlindersCluster, startVlindersWorld } from '../src/sandbox/kube/world/index.js';

const [nodes, pods, kubeconfigPath, mode] = process.argv.slice(2) as [string, string, string, string?];
const emu = await KubeApiEmulator.start();
const started = performance.now();
const size = { extraCpuNodes: Math.max(0, Number(nodes) - 7), extraPods: Math.max(0, Number(pods) - 60) };
const seeded = mode === 'world' ? startVlindersWorld(emu, { ...size, jobRunMs: 200 }).cluster : seedVlindersCluster(emu, size);
await emu.writeKubeconfig(kubeconfigPath);
process.stdout.write(`${JSON.stringify({ ready: true, url: emu.url, nodes: seeded.counts.nodes, pods: seeded.counts.pods, seedMs: Math.round(performance.now() - started) })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void emu.close().then(() => process.exit(0)));
