// The QEMU guest agent ping (POST /nodes/{node}/qemu/{vmid}/agent/ping, qemu-server API2/Qemu/Agent.pm). PVE answers
// `{ result: {} }` when the agent in the guest answered, and HTTP 500 with QemuServer/Agent.pm
// assert_agent_available's text when it cannot: "No QEMU guest agent configured", "VM <vmid> is not running",
// "QEMU guest agent is not running" (the agent did not answer within 3 seconds). Those mean "no" here; anything
// else (the node unreachable, a timeout, a malformed answer) is an error.
import type { Proxmox } from 'proxmox-api';
import type { Log } from '../log';
import { MalformedAnswerError, PveApiError } from '../platform/errors';
import type { Platform } from '../platform/types';
import type { PveClient } from './client';
import { checkNode, checkVmid } from './guest-paths';
import { isRecord } from './wire';

export interface AgentDeps {
  cluster: string;
  client: PveClient;
  log: Log;
}

/** assert_agent_available's refusals: the agent cannot answer (yet). */
const NOT_ANSWERING = /^(?:No QEMU guest agent configured|VM \d+ is not running|QEMU guest agent is not running)\b/;

interface PingEndpoint {
  agent: { ping: { $post(): Promise<unknown> } };
}

export function createAgentOps({ cluster, client }: AgentDeps): Pick<Platform, 'agentPing'> {
  return {
    async agentPing(node: string, vmid: number): Promise<boolean> {
      checkNode(node);
      checkVmid(vmid);
      const path = `/nodes/${node}/qemu/${vmid}/agent/ping`;
      let data: unknown;
      try {
        data = await client.call(
          `POST ${path}`,
          (api: Proxmox.Api) => (api.nodes.$(node).qemu.$(vmid) as unknown as PingEndpoint).agent.ping.$post(),
          { retryLocks: false },
        );
      } catch (err) {
        // Not logged: a readiness probe asks again and again until the agent answers.
        if (err instanceof PveApiError && err.status === 500 && NOT_ANSWERING.test(err.pveMessage ?? '')) return false;
        throw err;
      }
      if (!isRecord(data) || !('result' in data)) {
        throw new MalformedAnswerError(`${cluster}: POST ${path} answered without a result`, cluster, path);
      }
      return true;
    },
  };
}
