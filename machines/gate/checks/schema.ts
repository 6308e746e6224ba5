// Check 1, schema: the action, its target and its parameters are well-formed. Hand-written: machines/ imports no zod.
// A guest action names exactly one of target.vmid or target.selector (a selector only for BULK_ACTIONS, and it must
// parse: machines/gate/selector.ts); a node action (drain, undrain) names target.node and no guest; a deploy names
// neither a vmid nor a selector (its node is a parameter). Snapshot names are PVE's pve-configid, at most 40
// characters, and never 'current' (reserved by Proxmox for the guest's present state).
import type { CheckResult, RequestSpec } from '../../types';
import { ACTIONS, BULK_ACTIONS, INTERNAL_ACTIONS, NODE_ACTIONS } from '../../types';
import { parseSelector } from '../selector';
import type { CheckVerdict, GateCheck } from '../types';

export const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** PVE's pve-poolid format. */
export const POOL_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
/** PVE's pve-configid format (`[a-z][a-z0-9_-]+`, case-insensitive), which snapshot names use. */
export const SNAPSHOT_NAME = /^[a-z][a-z0-9_-]+$/i;
/** PVE's maxLength of a snapshot name. */
export const MAX_SNAPSHOT_NAME = 40;
/** The snapshot name PVE keeps for a guest's present state (both VMs and containers refuse it). */
export const RESERVED_SNAPSHOT_NAME = 'current';
export const MIN_VMID = 100;
export const MAX_VMID = 999_999_999;
export const MAX_SNAPSHOT_DESCRIPTION = 1000;
/** Longest shell command a `command` request may carry. */
export const MAX_COMMAND_LENGTH = 1000;
/** A command is one line: no NUL, no line break. */
const COMMAND_FORBIDDEN = /[\0\r\n]/;
/** How many guests a drain may move at once. */
export const MAX_DRAIN_CONCURRENCY = 16;

/** The parameter keys each action accepts; any other key is refused by name. */
export const ALLOWED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  deploy: ['template', 'node', 'name', 'count', 'full', 'pool'],
  snapshot: ['snapname', 'description'],
  command: ['command'],
  migrate: ['target', 'online', 'withLocalDisks'],
  rollback: ['snapname'],
  delsnapshot: ['snapname'],
  drain: ['concurrency'],
  configure: ['cores', 'memory', 'tags', 'nics', 'ciuser', 'sshKeys', 'nameserver', 'searchdomain', 'disk'],
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
  if (params.pool !== undefined && (typeof params.pool !== 'string' || !POOL_ID.test(params.pool))) {
    problems.push(`params.pool must be a pool id (letters, digits, '-' and '_'; got ${show(params.pool)})`);
  }
  return problems;
}

const isWhole = (value: unknown, min: number): boolean =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const isTextList = (value: unknown): boolean =>
  Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '' && !/[\0\r\n]/.test(v));
const isText = (value: unknown): boolean => typeof value === 'string' && value !== '' && !/[\0\r\n,=]/.test(value);

/** A guest's configuration: numbers in range, NICs on a bridge with an index, one-line texts. */
function configureProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const whole = (key: string, min: number) => {
    if (params[key] !== undefined && !isWhole(params[key], min)) {
      problems.push(`params.${key} must be a whole number of at least ${min} (got ${show(params[key])})`);
    }
  };
  whole('cores', 1);
  whole('memory', 16);
  whole('disk', 1);
  for (const key of ['tags', 'sshKeys']) {
    if (params[key] !== undefined && !isTextList(params[key]))
      problems.push(`params.${key} must be a list of one-line texts`);
  }
  for (const key of ['ciuser', 'nameserver', 'searchdomain']) {
    if (params[key] !== undefined && !isText(params[key]))
      problems.push(`params.${key} must be a one-line text (got ${show(params[key])})`);
  }
  const nics = params.nics;
  if (nics !== undefined) {
    const ok =
      Array.isArray(nics) &&
      nics.every(
        (n) =>
          isRecord(n) &&
          isWhole(n.index, 0) &&
          (n.index as number) < 32 &&
          isText(n.bridge) &&
          (n.tag === undefined || isWhole(n.tag, 1)) &&
          (n.ip === undefined || isText(n.ip)) &&
          (n.gw === undefined || isText(n.gw)),
      );
    if (!ok) problems.push('params.nics must be a list of {index 0..31, bridge, tag?, ip?, gw?}');
  }
  return problems;
}

function snapnameProblems(snapname: unknown): string[] {
  if (typeof snapname !== 'string' || !SNAPSHOT_NAME.test(snapname) || snapname.length > MAX_SNAPSHOT_NAME) {
    return [
      `params.snapname must start with a letter and hold 2 to ${MAX_SNAPSHOT_NAME} letters, digits, '_' or '-' (got ${show(snapname)})`,
    ];
  }
  return [];
}

function snapshotProblems(params: Record<string, unknown>): string[] {
  const problems = snapnameProblems(params.snapname);
  if (params.snapname === RESERVED_SNAPSHOT_NAME) {
    problems.push(`params.snapname '${RESERVED_SNAPSHOT_NAME}' is reserved by Proxmox (the guest's present state)`);
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

function migrateProblems(params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof params.target !== 'string' || !NODE_NAME.test(params.target)) {
    problems.push(`params.target must be the name of the node to move to (got ${show(params.target)})`);
  }
  for (const key of ['online', 'withLocalDisks']) {
    if (params[key] !== undefined && typeof params[key] !== 'boolean') {
      problems.push(`params.${key} must be true or false (got ${show(params[key])})`);
    }
  }
  return problems;
}

function drainProblems(params: Record<string, unknown>): string[] {
  const concurrency = params.concurrency;
  if (concurrency === undefined) return [];
  if (typeof concurrency === 'number' && Number.isInteger(concurrency)) {
    if (concurrency >= 1 && concurrency <= MAX_DRAIN_CONCURRENCY) return [];
  }
  return [`params.concurrency must be a whole number from 1 to ${MAX_DRAIN_CONCURRENCY} (got ${show(concurrency)})`];
}

/** What is wrong with the target of a known action. */
function targetProblems(action: string, target: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const cluster = target.cluster;
  if (typeof cluster !== 'string' || cluster === '') problems.push('target.cluster is missing');
  else if (!CLUSTER_NAME.test(cluster)) problems.push(`target.cluster ${show(cluster)} is not a valid cluster name`);
  const { vmid, selector, node } = target;

  if (action === 'deploy') {
    if (vmid !== undefined) problems.push('deploy takes no target.vmid (its clones get new VMIDs)');
    if (selector !== undefined) problems.push('deploy takes no target.selector (its clones get new VMIDs)');
    if (node !== undefined) problems.push('deploy takes no target.node (its node is params.node)');
    return problems;
  }
  if ((NODE_ACTIONS as ReadonlySet<string>).has(action)) {
    if (typeof node !== 'string' || !NODE_NAME.test(node)) {
      problems.push(`${action} needs target.node, a node name (got ${show(node)})`);
    }
    if (vmid !== undefined || selector !== undefined) {
      problems.push(`${action} names a node (target.node), not a guest: drop target.vmid and target.selector`);
    }
    return problems;
  }
  if (node !== undefined) problems.push(`${action} takes no target.node (it names a guest)`);
  if (selector === undefined) {
    if (!isVmid(vmid)) problems.push(`target.vmid must be a VMID from ${MIN_VMID} to ${MAX_VMID} (got ${show(vmid)})`);
    return problems;
  }
  if (vmid !== undefined) {
    problems.push(`${action} names target.vmid or target.selector, not both`);
  } else if (!(BULK_ACTIONS as ReadonlySet<string>).has(action)) {
    problems.push(`${action} cannot take a target.selector`);
  } else if (typeof selector !== 'string') {
    problems.push(`target.selector must be text such as "@tag:web,-105" (got ${show(selector)})`);
  } else {
    const parsed = parseSelector(selector);
    if (!parsed.ok) problems.push(`target.selector ${show(selector)} is malformed: ${parsed.error}`);
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
  if (!knownAction)
    problems.push(
      `unknown action ${show(action)} (expected one of ${ACTIONS.filter((a) => !INTERNAL_ACTIONS.has(a)).join(', ')})`,
    );

  const target = isRecord(raw.target) ? raw.target : undefined;
  if (!target) {
    problems.push('target is missing');
  } else if (knownAction) {
    problems.push(...targetProblems(action, target));
  } else {
    const cluster = target.cluster;
    if (typeof cluster !== 'string' || cluster === '') problems.push('target.cluster is missing');
    else if (!CLUSTER_NAME.test(cluster)) problems.push(`target.cluster ${show(cluster)} is not a valid cluster name`);
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
    if (action === 'migrate') problems.push(...migrateProblems(params));
    if (action === 'rollback' || action === 'delsnapshot') problems.push(...snapnameProblems(params.snapname));
    if (action === 'drain') problems.push(...drainProblems(params));
    if (action === 'configure') problems.push(...configureProblems(params));
  }
  // A configure is a lab's own work on its member: only ever made as a request of the lab.
  if (INTERNAL_ACTIONS.has(action as never) && raw.parent === undefined) {
    problems.push(`${String(action)} is made by Overseer's own work only (a lab's), not submitted`);
  }

  if (typeof raw.force !== 'boolean') problems.push(`force must be true or false (got ${show(raw.force)})`);
  return problems;
}

function describeRequest(request: RequestSpec): string {
  const { action, target } = request;
  if (action === 'deploy') return `deploy on cluster ${target.cluster}`;
  if (NODE_ACTIONS.has(action)) return `${action} of node ${target.cluster}/${target.node}`;
  if (target.selector !== undefined) return `${action} of ${target.selector} in cluster ${target.cluster}`;
  if (action === 'command') return `command on VM ${target.cluster}/${target.vmid}`;
  return `${action} of VM ${target.cluster}/${target.vmid}`;
}

export function checkSchema(request: RequestSpec): CheckVerdict {
  const problems = schemaProblems(request);
  if (problems.length > 0) return { outcome: 'deny', reason: `invalid request: ${problems.join('; ')}` };
  return { outcome: 'pass', reason: `${describeRequest(request)} is well-formed` };
}

export const schemaCheck: GateCheck = {
  name: 'schema',
  run: (input) => checkSchema(input.request),
  // A bulk request: its own shape first (the selector, the drain's node), then each member's.
  runUnit(input, unit) {
    const own = checkSchema(input.request);
    if (own.outcome !== 'pass') return own;
    const members = unit.eachMember(schemaCheck);
    return members.outcome === 'pass' ? own : members;
  },
};

/** The schema check alone, as a recorded result (the request machine's `validate` step). */
export function validateRequest(request: RequestSpec): CheckResult {
  return { check: 'schema', ...checkSchema(request) };
}
