// Check 1, schema: the action and its parameters are well-formed. Hand-written: machines/ imports no zod.
import type { CheckResult, RequestSpec } from '../../types';
import { ACTIONS } from '../../types';
import type { CheckVerdict, GateCheck } from '../types';

export const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
/** PVE's configid format for snapshot names (a '-' is refused by Proxmox). */
export const SNAPSHOT_NAME = /^[A-Za-z][A-Za-z0-9_]{1,39}$/;
export const MIN_VMID = 100;
export const MAX_VMID = 999_999_999;
export const MAX_SNAPSHOT_DESCRIPTION = 1000;
/** Longest shell command a `command` request may carry. */
export const MAX_COMMAND_LENGTH = 1000;
/** A command is one line: no NUL, no line break. */
const COMMAND_FORBIDDEN = /[\0\r\n]/;

/** The parameter keys each action accepts; any other key is refused by name. */
export const ALLOWED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  deploy: ['template', 'node', 'name', 'count', 'full'],
  snapshot: ['snapname', 'description'],
  command: ['command'],
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const isVmid = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= MIN_VMID && value <= MAX_VMID;

const show = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

function deployProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!isVmid(params.template)) {
    problems.push(`params.template must be a VMID from ${MIN_VMID} to ${MAX_VMID} (got ${show(params.template)})`);
  }
  if (typeof params.node !== 'string' || !NODE_NAME.test(params.node)) {
    problems.push(`params.node must be a node name (got ${show(params.node)})`);
  }
  if (typeof params.name !== 'string' || !DNS_LABEL.test(params.name)) {
    problems.push(`params.name must be a valid DNS label (got ${show(params.name)})`);
  }
  const count = params.count;
  if (count !== undefined && !(typeof count === 'number' && Number.isSafeInteger(count) && count >= 1)) {
    problems.push(`params.count must be a whole number of at least 1 (got ${show(count)})`);
  }
  if (params.full !== undefined && typeof params.full !== 'boolean') {
    problems.push(`params.full must be true or false (got ${show(params.full)})`);
  }
  return problems;
}

function snapshotProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof params.snapname !== 'string' || !SNAPSHOT_NAME.test(params.snapname)) {
    problems.push(
      `params.snapname must start with a letter and hold 2 to 40 letters, digits or '_' (got ${show(params.snapname)})`,
    );
  }
  const description = params.description;
  if (description !== undefined) {
    if (typeof description !== 'string') {
      problems.push(`params.description must be text (got ${show(description)})`);
    } else if (description.length > MAX_SNAPSHOT_DESCRIPTION) {
      problems.push(
        `params.description is ${description.length} characters long (at most ${MAX_SNAPSHOT_DESCRIPTION})`,
      );
    }
  }
  return problems;
}

function commandProblems(params: Record<string, unknown>): string[] {
  const command = params.command;
  if (typeof command !== 'string' || command.trim() === '') {
    return [`params.command must be a non-empty shell command (got ${show(command)})`];
  }
  if (command.length > MAX_COMMAND_LENGTH) {
    return [`params.command is ${command.length} characters long (at most ${MAX_COMMAND_LENGTH})`];
  }
  if (COMMAND_FORBIDDEN.test(command)) return ['params.command must be one line, with no NUL or line break'];
  return [];
}

/** Every problem with a request's shape; empty when it is well-formed. */
export function schemaProblems(request: RequestSpec): string[] {
  const raw: Record<string, unknown> = isRecord(request) ? request : {};
  const problems: string[] = [];

  const action = raw.action;
  const knownAction = typeof action === 'string' && (ACTIONS as readonly string[]).includes(action);
  if (!knownAction) problems.push(`unknown action ${show(action)} (expected one of ${ACTIONS.join(', ')})`);

  const target = isRecord(raw.target) ? raw.target : undefined;
  if (!target) {
    problems.push('target is missing');
  } else {
    const cluster = target.cluster;
    if (typeof cluster !== 'string' || cluster === '') problems.push('target.cluster is missing');
    else if (!CLUSTER_NAME.test(cluster)) problems.push(`target.cluster ${show(cluster)} is not a valid cluster name`);
    if (knownAction && action === 'deploy') {
      if (target.vmid !== undefined) problems.push('deploy takes no target.vmid (its clones get new VMIDs)');
    } else if (knownAction && !isVmid(target.vmid)) {
      problems.push(`target.vmid must be a VMID from ${MIN_VMID} to ${MAX_VMID} (got ${show(target.vmid)})`);
    }
  }

  if (!isRecord(raw.params)) {
    problems.push(`params must be an object (got ${show(raw.params)})`);
  } else if (knownAction) {
    const params = raw.params;
    const allowed = ALLOWED_PARAMS[action] ?? [];
    const unknown = Object.keys(params).filter((key) => !allowed.includes(key));
    if (allowed.length === 0) {
      if (unknown.length > 0) problems.push(`${action} takes no parameters (got ${unknown.map(show).join(', ')})`);
    } else {
      for (const key of unknown) problems.push(`unknown parameter ${show(key)} for ${action}`);
    }
    if (action === 'deploy') problems.push(...deployProblems(params));
    if (action === 'snapshot') problems.push(...snapshotProblems(params));
    if (action === 'command') problems.push(...commandProblems(params));
  }

  if (typeof raw.force !== 'boolean') problems.push(`force must be true or false (got ${show(raw.force)})`);
  return problems;
}

function describeRequest(request: RequestSpec): string {
  const { action, target } = request;
  if (action === 'deploy') return `deploy on cluster ${target.cluster}`;
  if (action === 'command') return `command on VM ${target.cluster}/${target.vmid}`;
  return `${action} of VM ${target.cluster}/${target.vmid}`;
}

export function checkSchema(request: RequestSpec): CheckVerdict {
  const problems = schemaProblems(request);
  if (problems.length > 0) return { outcome: 'deny', reason: `invalid request: ${problems.join('; ')}` };
  return { outcome: 'pass', reason: `${describeRequest(request)} is well-formed` };
}

export const schemaCheck: GateCheck = { name: 'schema', run: (input) => checkSchema(input.request) };

/** The schema check alone, as a recorded result (the request machine's `validate` step). */
export function validateRequest(request: RequestSpec): CheckResult {
  return { check: 'schema', ...checkSchema(request) };
}
