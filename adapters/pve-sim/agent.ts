// POST /nodes/{node}/qemu/{vmid}/agent/ping, as qemu-server's API2/Qemu/Agent.pm answers it after
// QemuServer/Agent.pm assert_agent_available: the VM's config must have `agent`, the VM must run, and the agent in
// the guest must answer guest-ping (qga_check_running gives it 3 seconds). A simulated guest's agent answers once the
// VM has run for its agent delay (seed `agentDelay`, default AGENT_READY_S); a guest seeded `agent: false` never does.
import { PveHttpError } from './errors';
import { currentValue } from './guest-options';
import { type OpsContext, requireVm } from './operations';

/** Seconds after start before a simulated guest's agent answers. */
export const AGENT_READY_S = 5;
/** qga_check_running: mon_cmd($vmid, "guest-ping", timeout => 3). */
export const AGENT_PING_TIMEOUT_MS = 3_000;

/** Whether the `agent` option enables the agent (its default key `enabled`). */
function agentEnabled(value: string): boolean {
  const first = value.split(',').find((part) => !part.includes('=') || part.startsWith('enabled='));
  const enabled = first?.replace(/^enabled=/, '') ?? '0';
  return /^(1|on|yes|true)$/i.test(enabled);
}

/** POST .../agent/ping: `{ result: {} }`, or PVE's 500 naming why the agent cannot answer. */
export async function agentPing(
  ctx: OpsContext,
  node: string,
  vmid: number,
): Promise<{ result: Record<string, never> }> {
  const vm = requireVm(ctx.state, node, vmid);
  const agent = currentValue(vm, 'agent');
  if (agent === undefined) throw new PveHttpError(500, 'No QEMU guest agent configured');
  if (vm.status !== 'running') throw new PveHttpError(500, `VM ${vmid} is not running`);
  // Without an enabled agent QEMU has no guest agent socket: the ping fails at once.
  if (!agentEnabled(agent)) throw new PveHttpError(500, 'QEMU guest agent is not running');
  const answers = vm.guestAgent !== false && !vm.paused && vm.startedAt !== undefined;
  const wait = answers ? vm.startedAt! + (vm.agentDelayMs ?? AGENT_READY_S * 1000) - ctx.clock.now() : Infinity;
  // An agent that comes up within the ping's timeout answers it.
  if (wait > AGENT_PING_TIMEOUT_MS) {
    await ctx.clock.sleep(AGENT_PING_TIMEOUT_MS, ctx.tasks.signal);
    throw new PveHttpError(500, 'QEMU guest agent is not running');
  }
  if (wait > 0) await ctx.clock.sleep(wait, ctx.tasks.signal);
  return { result: {} };
}
