// Check 2, authorization: the requester's role permits the action, and a `command` runs only a command from the
// allow-list (gate.commands.allowed, exact strings): no role may run anything else over SSH.
import type { Role } from '../../types';
import { ACTION_ROLE, ROLE_RANK } from '../../types';
import type { CheckVerdict, GateCheck, GateInput } from '../types';

/** A `command` request's command against the allow-list. */
function commandVerdict({ request, config }: GateInput, rolePasses: string): CheckVerdict {
  const command = (request.params as Record<string, unknown> | null | undefined)?.command;
  const shown = JSON.stringify(command) ?? String(command);
  if (typeof command !== 'string' || !config.commands.allowed.includes(command)) {
    return { outcome: 'deny', reason: `command ${shown} is not in gate.commands.allowed` };
  }
  return { outcome: 'pass', reason: `${rolePasses}; command ${shown} is in gate.commands.allowed` };
}

export const authorizationCheck: GateCheck = {
  name: 'authorization',
  run(input) {
    const { action, requester } = input.request;
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
    const passes = `role ${requester.role} may ${action} (needs ${needed})`;
    if (action === 'command') return commandVerdict(input, passes);
    return { outcome: 'pass', reason: passes };
  },
  // A bulk request: the requester may make it (a drain, say), and each member's own request.
  runUnit(input, unit) {
    const own = authorizationCheck.run(input);
    if (own.outcome !== 'pass') return own;
    const members = unit.eachMember(authorizationCheck);
    return members.outcome === 'pass' ? own : members;
  },
};
