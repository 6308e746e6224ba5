// A person at the Proxmox web UI (or a script with an API token) acting on the simulator behind Overseer's back,
// through the PVE API itself: a ticket from POST /access/ticket (cookie + CSRF header, as the web UI does) or an
// API token — Overseer's own token too, whose tasks are still someone else's decision.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Simulator } from '../../adapters/pve-sim';

interface Answer {
  status: number;
  body: { data?: unknown; errors?: unknown; message?: string } | undefined;
}

function call(
  sim: Simulator,
  method: string,
  path: string,
  headers: Record<string, string>,
  form?: Record<string, string>,
  ca?: string,
): Promise<Answer> {
  const url = new URL(`/api2/json${path}`, sim.url);
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        ca,
        headers: {
          ...headers,
          ...(body !== undefined
            ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Answer['body']) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Headers that authenticate as `who`: a user of the simulator (logged in for a ticket) or one of its API tokens. */
async function credentials(sim: Simulator, who: string, ca?: string): Promise<Record<string, string>> {
  const token = sim.tokens.find((t) => t.tokenid === who);
  if (token) return { Authorization: `PVEAPIToken=${token.tokenid}=${token.secret}` };
  const user = sim.users.find((u) => u.userid === who);
  if (!user) throw new Error(`the simulator knows no user or token '${who}'`);
  const login = await call(sim, 'POST', '/access/ticket', {}, { username: user.userid, password: user.password }, ca);
  const data = login.body?.data as { ticket: string; CSRFPreventionToken: string } | undefined;
  if (login.status !== 200 || !data) throw new Error(`login as ${who} failed: HTTP ${login.status}`);
  return { Cookie: `PVEAuthCookie=${encodeURIComponent(data.ticket)}`, CSRFPreventionToken: data.CSRFPreventionToken };
}

/**
 * POST /nodes/{node}/qemu/{vmid}/status/{action} as `who` (e.g. `root@pam` at the web UI, or an API token id);
 * returns the task's UPID.
 */
export async function powerAs(
  sim: Simulator,
  who: string,
  vmid: number,
  action: 'start' | 'stop' | 'shutdown' | 'reboot' | 'suspend' | 'resume',
  ca?: string,
): Promise<string> {
  const vm = sim.state.vms.get(vmid);
  if (!vm) throw new Error(`the simulator has no VM ${vmid}`);
  const headers = await credentials(sim, who, ca);
  const answer = await call(sim, 'POST', `/nodes/${vm.node}/qemu/${vmid}/status/${action}`, headers, {}, ca);
  if (answer.status !== 200 || typeof answer.body?.data !== 'string') {
    throw new Error(`${action} of VM ${vmid} as ${who} failed: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.data;
}
