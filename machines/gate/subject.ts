// What a request is about: the VM it targets, the template and node a deploy uses, the node a node action names, or
// where a migrate moves its guest.
import type { Action, HostInfo, RequestSpec, VmInfo } from '../types';
import { hostKey, NODE_ACTIONS, vmKey } from '../types';
import type { GateInput } from './types';

/** Every action but deploy and the node actions (drain, undrain) targets one existing guest. */
export function isVmAction(action: Action): boolean {
  return action !== 'deploy' && !NODE_ACTIONS.has(action);
}

const paramsOf = (request: RequestSpec): Record<string, unknown> | undefined => {
  const params = request.params as Record<string, unknown> | null | undefined;
  return params !== null && typeof params === 'object' ? params : undefined;
};

/** The deploy parameters, read leniently (the schema check is the one that validates them). */
export interface DeploySubject {
  template: number;
  node: string;
  name: string;
  count: number;
}

export function deploySubject(request: RequestSpec): DeploySubject | undefined {
  if (request.action !== 'deploy') return undefined;
  const params = paramsOf(request);
  if (!params) return undefined;
  const { template, node, name, count } = params;
  if (typeof template !== 'number' || typeof node !== 'string') return undefined;
  return {
    template,
    node,
    name: typeof name === 'string' ? name : '',
    count: typeof count === 'number' ? count : 1,
  };
}

/** A migrate's parameters, read leniently. */
export interface MigrateSubject {
  target: string;
  online: boolean | undefined;
  withLocalDisks: boolean;
}

export function migrateSubject(request: RequestSpec): MigrateSubject | undefined {
  if (request.action !== 'migrate') return undefined;
  const params = paramsOf(request);
  if (!params || typeof params.target !== 'string') return undefined;
  return {
    target: params.target,
    online: typeof params.online === 'boolean' ? params.online : undefined,
    withLocalDisks: params.withLocalDisks === true,
  };
}

/** The snapshot a snapshot, rollback or delsnapshot request names. */
export function snapshotNameOf(request: RequestSpec): string | undefined {
  const snapname = paramsOf(request)?.snapname;
  return typeof snapname === 'string' ? snapname : undefined;
}

/** How many VMs the request touches: the clone count for a deploy, none for a node action, one otherwise. */
export function vmsTouched(request: RequestSpec): number {
  if (NODE_ACTIONS.has(request.action)) return 0;
  return deploySubject(request)?.count ?? 1;
}

/** The VM a VM action targets, as `{key, vm}`; vm is undefined when the inventory does not hold it. */
export function targetVm(input: GateInput): { key: string; vm: VmInfo | undefined } | undefined {
  const { request } = input;
  if (!isVmAction(request.action) || request.target.vmid === undefined) return undefined;
  const key = vmKey(request.target.cluster, request.target.vmid);
  return { key, vm: input.vms.get(key) };
}

/** The node a node action (drain, undrain) names, as `{node, host}`; host is undefined when it is unknown. */
export function targetNode(input: GateInput): { node: string; host: HostInfo | undefined } | undefined {
  const { request } = input;
  if (!NODE_ACTIONS.has(request.action) || typeof request.target.node !== 'string') return undefined;
  const node = request.target.node;
  return { node, host: input.hosts.get(hostKey(request.target.cluster, node)) };
}

/** The template a deploy clones, as `{key, vm}`. */
export function deployTemplate(input: GateInput): { key: string; vm: VmInfo | undefined } | undefined {
  const deploy = deploySubject(input.request);
  if (!deploy) return undefined;
  const key = vmKey(input.request.target.cluster, deploy.template);
  return { key, vm: input.vms.get(key) };
}
