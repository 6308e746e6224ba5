// The `command` action at the gate: its schema, the allow-list (authorization), the VM and its SSH target (target),
// and what the other checks make of it.
import { describe, expect, it } from 'vitest';
import type { GateInput } from '../../machines/gate';
import {
  authorizationCheck,
  checkSchema,
  conflictsCheck,
  evaluateGate,
  gateChecks,
  haCheck,
  platformHealthCheck,
  productionCheck,
  recheckRequest,
  targetCheck,
} from '../../machines/gate';
import { OVERSEER_IDENTITY } from '../../machines/types';
import type { World } from './fixtures';
import { gateInput, makeWorld, patchHost, patchVm, vmRequest } from './fixtures';

const ALLOWED = 'systemctl restart nginx';

function commandWorld(): World {
  const world = makeWorld();
  world.config.commands.allowed = [ALLOWED, 'df -h'];
  return world;
}

const command = (vmid: number, cmd: unknown = ALLOWED, patch = {}) =>
  vmRequest('command', vmid, { params: { command: cmd }, requester: OVERSEER_IDENTITY, origin: 'overseer', ...patch });

/** The world plus the VMs that have an SSH target. */
function input(request: ReturnType<typeof command>, world = commandWorld(), ssh = ['lab/101', 'lab/102', 'lab/114']) {
  const result: GateInput = { ...gateInput(request, world), sshTargets: new Set(ssh) };
  return result;
}

describe('command requests at the gate', () => {
  it('command schema - a one-line command on a VM is well-formed', () => {
    expect(checkSchema(command(101))).toEqual({ outcome: 'pass', reason: 'command on VM lab/101 is well-formed' });
  });

  it('command schema - the command must be a non-empty string of at most 1000 characters, one line', () => {
    const reason = (cmd: unknown) => checkSchema(command(101, cmd)).reason;
    expect(checkSchema(vmRequest('command', 101)).reason).toBe(
      'invalid request: params.command must be a non-empty shell command (got nothing)',
    );
    expect(reason('   ')).toBe('invalid request: params.command must be a non-empty shell command (got "   ")');
    expect(reason(42)).toBe('invalid request: params.command must be a non-empty shell command (got 42)');
    expect(reason('x'.repeat(1001))).toBe('invalid request: params.command is 1001 characters long (at most 1000)');
    expect(reason('true\nreboot')).toBe('invalid request: params.command must be one line, with no NUL or line break');
    expect(reason('true\r')).toBe('invalid request: params.command must be one line, with no NUL or line break');
    expect(reason('true\u0000')).toBe('invalid request: params.command must be one line, with no NUL or line break');
    expect(checkSchema(command(101, 'x'.repeat(1000))).outcome).toBe('pass');
  });

  it('command schema - other parameters and a missing VM are refused by name', () => {
    expect(checkSchema(vmRequest('command', 101, { params: { command: ALLOWED, sudo: true } })).reason).toBe(
      'invalid request: unknown parameter "sudo" for command',
    );
    expect(checkSchema(command(101, ALLOWED, { target: { cluster: 'lab' } })).reason).toBe(
      'invalid request: target.vmid must be a VMID from 100 to 999999999 (got nothing)',
    );
  });

  it('command authorization - an allowed command passes for an operator, the Overseer included', () => {
    expect(authorizationCheck.run(input(command(101)))).toEqual({
      outcome: 'pass',
      reason:
        'role operator may command (needs operator); command "systemctl restart nginx" is in gate.commands.allowed',
    });
  });

  it('command authorization - a command not in the allow-list is denied, naming it, whatever the role', () => {
    const admin = { id: 'alice', role: 'admin' as const };
    expect(authorizationCheck.run(input(command(101, 'rm -rf /', { requester: admin })))).toEqual({
      outcome: 'deny',
      reason: 'command "rm -rf /" is not in gate.commands.allowed',
    });
    // Exact strings: a command with extra words is another command.
    expect(authorizationCheck.run(input(command(101, `${ALLOWED}; reboot`))).outcome).toBe('deny');
    expect(authorizationCheck.run(input(command(101, ` ${ALLOWED}`))).outcome).toBe('deny');
  });

  it('command authorization - with no allow-list configured, no command passes', () => {
    const world = makeWorld();
    expect(authorizationCheck.run(input(command(101), world))).toEqual({
      outcome: 'deny',
      reason: 'command "systemctl restart nginx" is not in gate.commands.allowed',
    });
  });

  it('command authorization - an observer may not run commands', () => {
    const observer = { id: 'otto', role: 'observer' as const };
    expect(authorizationCheck.run(input(command(101, ALLOWED, { requester: observer })))).toEqual({
      outcome: 'deny',
      reason: 'role observer may not command (needs operator)',
    });
  });

  it('command target - a running VM with an SSH target passes', () => {
    expect(targetCheck.run(input(command(101)))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/101 (web) exists on node pve1 and has an SSH target',
    });
  });

  it('command target - a VM without an SSH target is denied', () => {
    expect(targetCheck.run(input(command(101), commandWorld(), ['lab/102']))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/101 (web) has no SSH target (ssh.targets): a command cannot be run on it',
    });
    // No SSH source at all: nowhere to run a command.
    expect(targetCheck.run(gateInput(command(101), commandWorld())).outcome).toBe('deny');
  });

  it('command target - a missing or stopped VM is denied', () => {
    expect(targetCheck.run(input(command(404)))).toEqual({ outcome: 'deny', reason: 'VM lab/404 does not exist' });
    expect(targetCheck.run(input(command(102)))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/102 (build) is stopped: command needs a running VM',
    });
  });

  it('command - production is no obstacle (a command does not disrupt the VM), HA leaves it alone', () => {
    expect(productionCheck.run(input(command(114)))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/114 (minecraft) is production, but command does not disrupt it',
    });
    expect(haCheck.run(input(command(105), commandWorld(), ['lab/105']))).toEqual({
      outcome: 'pass',
      reason: 'VM lab/105 (db) is managed by Proxmox HA, but command leaves its HA state alone',
    });
  });

  it('command - a locked VM, a VM with another active request, or an offline node is not touched', () => {
    const locked = commandWorld();
    patchVm(locked, 101, { lock: 'migrate' });
    expect(conflictsCheck.run(input(command(101), locked))).toEqual({
      outcome: 'deny',
      reason: 'VM lab/101 (web) is locked by PVE (migrate)',
    });
    const busy = commandWorld();
    busy.activeRequests.set('lab/101', { id: 'other', action: 'reboot' });
    expect(conflictsCheck.run(input(command(101), busy)).reason).toBe(
      'VM lab/101 (web) has another active request: other (reboot)',
    );
    const offline = commandWorld();
    patchHost(offline, 'pve1', { status: 'offline' });
    expect(platformHealthCheck.run(input(command(101), offline))).toEqual({
      outcome: 'deny',
      reason: 'node pve1 is offline',
    });
  });

  it('command gate - an allowed command on a reachable guest is approved; each check is recorded', () => {
    const result = evaluateGate(input(command(101)));
    expect(result.decision).toBe('approved');
    // Every check of the gate ran and passed, each recorded by name.
    expect(result.checks.map((c) => c.check)).toEqual(gateChecks.map((c) => c.name));
    expect(result.checks.every((c) => c.outcome === 'pass')).toBe(true);
  });

  it('command gate - a command not allowed is denied at authorization; the rest is skipped', () => {
    const result = evaluateGate(input(command(101, 'reboot')));
    expect(result).toMatchObject({ decision: 'denied', reasons: ['command "reboot" is not in gate.commands.allowed'] });
    const skipped = result.checks.filter((c) => c.outcome === 'skipped').map((c) => c.check);
    expect(skipped).toEqual(gateChecks.map((c) => c.name).slice(2));
  });

  it('command recheck - a guest that stopped or lost its SSH target before execution fails the request', () => {
    const world = commandWorld();
    expect(recheckRequest(input(command(101), world), 'execution', false).reason).toBeUndefined();
    patchVm(world, 101, { status: 'stopped' });
    expect(recheckRequest(input(command(101), world), 'execution', false).reason).toBe(
      'no longer passes the gate before execution: VM lab/101 (web) is stopped: command needs a running VM',
    );
  });
});
