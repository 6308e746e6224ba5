// Check 2, authorization: the requester's role permits the action.
import type { Role } from '../../types';
import { ACTION_ROLE, ROLE_RANK } from '../../types';
import type { GateCheck } from '../types';

export const authorizationCheck: GateCheck = {
  name: 'authorization',
  run({ request }) {
    const { action, requester } = request;
    const needed = ACTION_ROLE[action];
    const rank = Object.hasOwn(ROLE_RANK, requester.role) ? ROLE_RANK[requester.role as Role] : undefined;
    if (rank === undefined) {
      return {
        outcome: 'deny',
        reason: `unknown role ${JSON.stringify(requester.role)} may not ${action} (needs ${needed})`,
      };
    }
    if (rank < ROLE_RANK[needed]) {
      return { outcome: 'deny', reason: `role ${requester.role} may not ${action} (needs ${needed})` };
    }
    return { outcome: 'pass', reason: `role ${requester.role} may ${action} (needs ${needed})` };
  },
};
