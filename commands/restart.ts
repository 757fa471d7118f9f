import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ConfirmationError, UsageError } from '../src/core/errors.js';
import type { Report } from '../src/core/report.js';
import { readDeployment, restartDeployment, rolloutState } from '../src/kube/rollout.js';

const USAGE = 'restart <deployment> [--namespace NS] [--cluster NAME]';

/** What the plan saw: the restart patch is pinned to this resourceVersion. */
interface RestartPin {
  namespace: string;
  name: string;
  resourceVersion: string;
}

const args = z.object({
  deployment: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Deployment name').max(253),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a namespace').max(63).optional(),
});

/** Only the Vlinders namespaces: the bot restarts the platform's workloads, nobody else's. */
function namespaceOf(namespaces: Record<string, string>, asked: string | undefined): string {
  const allowed = [...new Set(Object.values(namespaces))];
  const ns = asked ?? namespaces.platform ?? 'vlinders-platform';
  if (!allowed.includes(ns)) throw new UsageError(`restart only works in the Vlinders namespaces (${allowed.join(', ')}), not "${ns}".`, USAGE);
  return ns;
}

export default defineCommand({
  name: 'restart',
  summary: 'Rollout-restart a Deployment and wait until every pod is replaced and Ready',
  usage: USAGE,
  args,
  positional: ['deployment'],
  role: 'operator',
  risk: 'change',
  examples: ['restart vlinders-api', 'restart grafana --namespace vlinders-monitoring'],
  plan: async (ctx, { deployment, namespace }) => {
    const kube = ctx.services.kube();
    const ns = namespaceOf(ctx.config.namespaces, namespace);
    const d = await readDeployment(kube, ns, deployment);
    const replicas = d.spec?.replicas ?? 1;
    const images = (d.spec?.template.spec?.containers ?? []).map((c) => `${c.name}: ${c.image ?? '?'}`);
    const s = d.status ?? {};
    const warnings: string[] = [];
    if (replicas === 0) warnings.push('⚠️ The Deployment has 0 replicas: there is nothing to restart, only the template changes.');
    if ((s.readyReplicas ?? 0) < replicas) warnings.push(`⚠️ Only ${s.readyReplicas ?? 0}/${replicas} pods are Ready now; a restart replaces them one at a time and waits for each new one.`);
    const pin: RestartPin = { namespace: ns, name: deployment, resourceVersion: d.metadata?.resourceVersion ?? '' };
    return {
      title: `restart ${ns}/${deployment}`,
      status: warnings.length > 0 ? 'warn' : 'info',
      summary: `Rollout restart of Deployment ${ns}/${deployment}: every pod is replaced, one at a time, with the same spec.`,
      sections: [
        {
          fields: [
            { label: 'Replicas', value: String(replicas) },
            { label: 'Ready now', value: `${s.readyReplicas ?? 0}/${replicas}` },
            { label: 'Up to date', value: `${s.updatedReplicas ?? 0}/${replicas}` },
          ],
        },
        { title: 'Images', lines: images.map((i) => `\`${i}\``) },
        ...(warnings.length > 0 ? [{ lines: warnings }] : []),
      ],
      pin,
    };
  },
  run: async (ctx, { deployment, namespace }) => {
    const kube = ctx.services.kube();
    const ns = namespaceOf(ctx.config.namespaces, namespace);
    const pin = ctx.pin as RestartPin | undefined;
    let resourceVersion = pin?.resourceVersion;
    if (!resourceVersion) resourceVersion = (await readDeployment(kube, ns, deployment)).metadata?.resourceVersion ?? '';
    if (pin && (pin.namespace !== ns || pin.name !== deployment)) throw new ConfirmationError('The approved plan was for another Deployment; nothing was changed.');
    await restartDeployment(kube, ns, deployment, resourceVersion, new Date());
    await ctx.progress(`Restarting ${ns}/${deployment}: pod template annotated; waiting for the rollout…`);

    const timeoutSeconds = ctx.config.restart.timeoutSeconds;
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last = '';
    for (;;) {
      const state = await rolloutState(kube, ns, deployment);
      const line = `${state.updatedReady}/${state.replicas} pods updated and ready`;
      if (line !== last) {
        await ctx.progress(line);
        last = line;
      }
      if (state.done) {
        return { title: `restart ${ns}/${deployment}`, status: 'ok', summary: `Rolled out: ${state.replicas}/${state.replicas} pods updated, Ready and available.` } satisfies Report;
      }
      if (Date.now() >= deadline || ctx.signal.aborted) {
        return {
          title: `restart ${ns}/${deployment}`,
          status: 'warn',
          summary: `The rollout has not finished after ${timeoutSeconds} s: ${state.updated}/${state.replicas} updated, ${state.ready}/${state.replicas} Ready. Kubernetes keeps trying; the old pods that are still Ready keep serving.`,
          sections: [
            state.notReady.length > 0
              ? { title: 'Pods not Ready', header: ['pod', 'why'], rows: state.notReady.map((p) => [p.pod, p.why]) }
              : { lines: ['No pod reports a problem; the controller has not caught up yet.'] },
            { lines: [`To undo: \`kubectl rollout undo deployment/${deployment} -n ${ns}\``] },
          ],
        } satisfies Report;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  },
});
