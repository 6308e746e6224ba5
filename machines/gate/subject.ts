// What a request is about: the VM it targets, or the template and node a deploy uses.
import type { Action, RequestSpec, VmInfo } from '../types';
import { vmKey } from '../types';
import type { GateInput } from './types';

/** Every action but deploy targets one existing VM. */
export function isVmAction(action: Action): boolean {
  return action !== 'deploy';
}

/** The deploy parameters, read leniently (the schema check is the one that validates them). */
export interface DeploySubject {
  template: number;
  node: string;
  name: string;
  count: number;
}

export function deploySubject(request: RequestSpec): DeploySubject | undefined {
  if (request.action !== 'deploy') return undefined;
  const params = request.params as Record<string, unknown> | null | undefined;
  if (params === null || typeof params !== 'object') return undefined;
  const { template, node, name, count } = params;
  if (typeof template !== 'number' || typeof node !== 'string') return undefined;
  return {
    template,
    node,
    name: typeof name === 'string' ? name : '',
    count: typeof count === 'number' ? count : 1,
  };
}

/** How many VMs the request touches: the clone count for a deploy, one otherwise. */
export function vmsTouched(request: RequestSpec): number {
  return deploySubject(request)?.count ?? 1;
}

/** The VM a VM action targets, as `{key, vm}`; vm is undefined when the inventory does not hold it. */
export function targetVm(input: GateInput): { key: string; vm: VmInfo | undefined } | undefined {
  const { request } = input;
  if (!isVmAction(request.action) || request.target.vmid === undefined) return undefined;
  const key = vmKey(request.target.cluster, request.target.vmid);
  return { key, vm: input.vms.get(key) };
}

/** The template a deploy clones, as `{key, vm}`. */
export function deployTemplate(input: GateInput): { key: string; vm: VmInfo | undefined } | undefined {
  const deploy = deploySubject(input.request);
  if (!deploy) return undefined;
  const key = vmKey(input.request.target.cluster, deploy.template);
  return { key, vm: input.vms.get(key) };
}
