import type { PreflightCheck } from '../check.js';

/** A server's major/minor as numbers; managed clusters report minors like '30+' (EKS, GKE). */
export function parseVersion(major: string, minor: string): [number, number] {
  return [Number.parseInt(major, 10), Number.parseInt(minor, 10)];
}

export const kubernetesVersion: PreflightCheck = {
  id: 'kubernetes-version',
  title: 'Kubernetes version',
  phases: [1],
  async run({ kube, config }) {
    const want = config.platform.minKubernetesVersion;
    const v = await kube.serverVersion();
    const [major, minor] = parseVersion(v.major, v.minor);
    if (!Number.isFinite(major) || !Number.isFinite(minor)) {
      return { status: 'warn', detail: `the API server reports a version this can't read (${v.gitVersion})`, fix: `Check it is ${want} or later: \`kubectl version\`.` };
    }
    const [wantMajor, wantMinor] = parseVersion(...(want.split('.') as [string, string]));
    if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) return { status: 'pass', detail: `${v.gitVersion} (≥ ${want})` };
    return { status: 'fail', detail: `${v.gitVersion} is older than ${want}`, fix: `Upgrade the control plane to ${want} or later (EKS: \`eksctl upgrade cluster\`), then the node groups.` };
  },
};
