// Leader election on a coordination.k8s.io/v1 Lease, so scheduled work runs on one
// replica only. Taking or renewing the Lease sends the resourceVersion it read: two
// replicas racing for it can't both win.
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from './client.js';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds?: number;
  /** How often to try to take or renew; default a third of the lease. */
  retryMs?: number;
  log?: Logger;
  now?: () => number;
}

export class LeaderElector {
  private leader = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly leaseSeconds: number;
  private readonly now: () => number;

  constructor(
    private client: KubeClient,
    private opts: LeaderOptions,
  ) {
    this.leaseSeconds = opts.leaseSeconds ?? 15;
    this.now = opts.now ?? Date.now;
  }

  isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      await this.tryOnce().catch((err: unknown) => {
        this.leader = false;
        this.opts.log?.warn({ err }, 'leader election: lease call failed');
      });
      if (!this.stopped) this.timer = setTimeout(loop, this.opts.retryMs ?? (this.leaseSeconds * 1000) / 3);
    };
    void loop();
  }

  /** One round: take the Lease if free or expired, renew it if ours. Returns whether we lead. */
  async tryOnce(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = new V1MicroTime(this.now());
    let lease: V1Lease | undefined;
    try {
      lease = await this.client.coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    if (!lease) {
      try {
        await this.client.coordination.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
        return this.become(true);
      } catch (err) {
        if ((err as { code?: number }).code === 409) return this.become(false);
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000 <= this.now();
    const ours = spec.holderIdentity === identity;
    if (!ours && !expired && spec.holderIdentity) return this.become(false);
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseSeconds,
        renewTime: now,
        ...(ours ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.client.coordination.replaceNamespacedLease({ name, namespace, body });
      return this.become(true);
    } catch (err) {
      if ((err as { code?: number }).code === 409) return this.become(false);
      throw err;
    }
  }

  /** Stops, and hands the Lease back so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leader) return;
    this.leader = false;
    const { namespace, name, identity } = this.opts;
    const lease = await this.client.coordination.readNamespacedLease({ name, namespace }).catch(() => undefined);
    if (lease?.spec?.holderIdentity !== identity) return;
    await this.client.coordination
      .replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, renewTime: undefined } } })
      .catch((err: unknown) => this.opts.log?.warn({ err }, 'leader election: could not release the lease'));
  }

  private become(leader: boolean): boolean {
    if (leader !== this.leader) this.opts.log?.info({ leader, identity: this.opts.identity }, leader ? 'became leader' : 'lost leadership');
    this.leader = leader;
    return leader;
  }
}
