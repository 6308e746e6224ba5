// The PVE simulator with a large generated fleet, as its own process, so a benchmark measuring Overseer's CPU
// does not count the simulator's. Plain HTTP on 127.0.0.1.
// Run: node --import tsx bench/sim-server.ts <vms> <nodes> <token-secret>
// Prints `READY {"port":...,"tokenId":...}` once listening; stops when its stdin closes or on SIGTERM.
import { SystemClock } from '../adapters/clock';
import { largeSeed, startSimulator } from '../adapters/pve-sim';

const [vmsArg, nodesArg, secret] = process.argv.slice(2);
const vms = Number(vmsArg);
const nodes = Number(nodesArg);
if (!Number.isInteger(vms) || !Number.isInteger(nodes) || !secret) {
  throw new Error('usage: sim-server <vms> <nodes> <token-secret>');
}

const tokenId = 'root@pam!bench';
const sim = await startSimulator({
  clock: new SystemClock(),
  seed: largeSeed({ vms, nodes, cluster: 'bench' }),
  tokens: [{ tokenid: tokenId, secret }],
});
process.stdout.write(`READY ${JSON.stringify({ port: sim.port, tokenId })}\n`);

const stop = () => void sim.stop().then(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
