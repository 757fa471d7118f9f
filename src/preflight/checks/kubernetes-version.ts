import type { PreflightCheck } from '../check.js';

/** '1.28' or a server's major/minor ('1', '30+' on some managed clusters) as [major, minor]. */
export function parseMinor(major: string, minor: string): [number, number] {
  return [Number.parseInt(major, 10), Number.parseInt(minor, 10)];
}

export const kubernetesVersion: PreflightCheck = {
  id: 'kubernetes-version',
  title: 'Kubernetes version',
  phases: [1],
  async run({ kube, config }) {
    const v = await kube.serverVersion();
    const [major, minor] = parseMinor(v.major, v.minor);
    const [wantMajor, wantMinor] = parseMinor(...(config.platform.minKubernetesVersion.split('.') as [string, string]));
    const ok = major > wantMajor || (major === wantMajor && minor >= wantMinor);
    if (!Number.isFinite(major) || !Number.isFinite(minor)) {
      return { status: 'warn', detail: `the API server reports an unreadable version (${v.gitVersion})`, fix: 'Check `kubectl version`.' };
    }
    return ok
      ? { status: 'pass', detail: `${v.gitVersion} (≥ ${config.platform.minKubernetesVersion})` }
      : { status: 'fail', detail: `${v.gitVersion} is older than ${config.platform.minKubernetesVersion}`, fix: `Upgrade the control plane to ${config.platform.minKubernetesVersion} or later (EKS: \`eksctl upgrade cluster\`), then the node groups.` };
  },
};
