// `node cordon` and `node uncordon`: one definition, two directions. Cordoning only stops new
// pods landing on the node (spec.unschedulable); what runs there keeps running.
import { z } from 'zod';
import { defineCommand, type Command } from '../core/command.js';
import { NothingToDoError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { isCordoned, podsOnNode, readNode, setUnschedulable, summarizeNode } from './drain.js';

/** A node name as Kubernetes allows it (RFC 1123 subdomain), checked before it reaches a URL. */
export const nodeNameArg = z
  .string()
  .max(253, 'a node name has at most 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a node name (DNS-1123: lower-case letters, digits, - and .)');

export function cordonCommand(cordon: boolean): Command {
  const verb = cordon ? 'cordon' : 'uncordon';
  const usage = `node ${verb} <node> [--cluster NAME]`;
  return defineCommand({
    name: `node ${verb}`,
    summary: cordon ? 'Mark a node unschedulable: no new pods land on it; what runs there keeps running' : 'Make a cordoned node schedulable again',
    usage,
    args: z.object({ node: nodeNameArg }),
    positional: ['node'],
    role: 'operator',
    risk: 'change',
    examples: [`node ${verb} vlinders-gpu-2`],
    plan: async (ctx, { node }) => {
      const kube = ctx.services.kube();
      const summary = summarizeNode(await readNode(kube, node));
      if (summary.cordoned === cordon) throw new NothingToDoError(`Node ${node} is already ${cordon ? 'cordoned' : 'schedulable'}; nothing to change.`);
      const pods = await podsOnNode(kube, node);
      return {
        title: `node ${verb} ${node}`,
        status: 'info',
        summary: cordon
          ? `Marks node ${node} unschedulable. The ${pods.length} pod${pods.length === 1 ? '' : 's'} on it keep running; \`node drain ${node}\` moves them.`
          : `Lets the scheduler place new pods on node ${node} again.`,
        sections: [
          {
            fields: [
              { label: 'Node', value: `${node} (${summary.ready ? 'Ready' : 'NotReady'})` },
              { label: 'GPUs', value: summary.gpus ?? 'none' },
              { label: 'Pods on it', value: String(pods.length) },
            ],
          },
        ],
      };
    },
    run: async (ctx, { node }) => {
      const kube = ctx.services.kube();
      const before = await readNode(kube, node);
      if (isCordoned(before) !== cordon) await setUnschedulable(kube, node, cordon);
      return {
        title: `node ${verb} ${node}`,
        status: 'ok',
        summary: cordon ? `Node ${node} is cordoned: no new pods will be scheduled on it. Undo with \`node uncordon ${node}\`.` : `Node ${node} is schedulable again.`,
      } satisfies Report;
    },
  });
}
