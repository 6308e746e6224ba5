import { describe, expect, it } from 'vitest';
import { authorizationCheck } from '../../machines/gate';
import type { Role } from '../../machines/types';
import { deployRequest, gateInput, vmRequest } from './fixtures';

const as = (id: string, role: Role) => ({ requester: { id, role } });

describe('authorization check', () => {
  it('authorization - an admin may destroy', () => {
    expect(authorizationCheck.run(gateInput(vmRequest('destroy', 101, as('alice', 'admin'))))).toEqual({
      outcome: 'pass',
      reason: 'role admin may destroy (needs admin)',
    });
  });

  it('authorization - an operator may deploy', () => {
    expect(authorizationCheck.run(gateInput(deployRequest())).reason).toBe('role operator may deploy (needs operator)');
  });

  it('authorization - an operator may not destroy', () => {
    expect(authorizationCheck.run(gateInput(vmRequest('destroy', 101, as('carol', 'operator'))))).toEqual({
      outcome: 'deny',
      reason: 'role operator may not destroy (needs admin)',
    });
  });

  it('authorization - an observer may not start', () => {
    expect(authorizationCheck.run(gateInput(vmRequest('start', 101, as('dave', 'observer'))))).toEqual({
      outcome: 'deny',
      reason: 'role observer may not start (needs operator)',
    });
  });

  it('authorization - an unknown role is denied', () => {
    const request = vmRequest('start', 101, as('eve', 'root' as Role));
    expect(authorizationCheck.run(gateInput(request))).toEqual({
      outcome: 'deny',
      reason: 'unknown role "root" may not start (needs operator)',
    });
  });
});
