import type { PreflightCheck } from '../check.js';

interface StorageClassList {
  items: Array<{ metadata?: { name?: string }; provisioner?: string }>;
}

export const storageClass: PreflightCheck = {
  id: 'storage-class',
  title: 'Storage class',
  phases: [1],
  async run({ kube, config }) {
    const wanted = config.platform.storageClasses;
    // storage.k8s.io is served like any group: the generic client reads it without a typed API.
    const list = (await kube.call({ verb: 'list', resource: 'storageclasses.storage.k8s.io' }, () =>
      kube.custom.listClusterCustomObject({ group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses' }),
    )) as StorageClassList;
    const present = list.items.map((s) => s.metadata?.name ?? '');
    const found = wanted.filter((w) => present.includes(w));
    if (found.length > 0) return { status: 'pass', detail: `${found.join(', ')} present` };
    return {
      status: 'fail',
      detail: `none of ${wanted.join(', ')} exists (the cluster has: ${present.join(', ') || 'none'})`,
      fix: `Create StorageClass ${wanted[0]} (EKS: provisioner ebs.csi.aws.com, parameters.type gp3), or list one the cluster has in platform.storageClasses.`,
    };
  },
};
