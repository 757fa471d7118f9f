import type { PreflightCheck } from '../check.js';
import { podsRunning } from './pods-running.js';

export const cni: PreflightCheck = {
  id: 'cni',
  title: 'CNI (Calico or Cilium)',
  phases: [1],
  run: ({ kube, config }) => podsRunning(kube, config.platform.cniSelector, 'CNI', 'Install Calico (tigera-operator) or Cilium (`cilium install`); the platform\'s NetworkPolicies need one of them.'),
};
