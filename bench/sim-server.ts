// The PVE simulator with a large generated fleet, as its own process, so a benchmark measuring Overseer's CPU
// does not count the simulator's. Plain HTTP on 127.0.0.1.
// Run: node --import tsx bench/sim-server.ts <vms> <nodes> <token-secret> [task-ms]
// task-ms: every task type takes this long (simulator clock); default: the simulator's own durations.
// Prints `READY {"port":...,"tokenId":...}` once listening; stops when its stdin closes or on SIGTERM.
import { SystemClock } from '../adapters/clock';
import { DEFAULT_TASK_DURATIONS, largeSeed, startSimulator } from '../adapters/pve-sim';

const [vmsArg, nodesArg, secret, taskMsArg] = process.argv.slice(2);
const vms = Number(vmsArg);
const nodes = Number(nodesArg);
if (!Number.isInteger(vms) || !Number.isInteger(nodes) || !secret) {
  throw new Error('usage: sim-server <vms> <nodes> <token-secret> [task-ms]');
}
const taskMs = taskMsArg === undefined ? undefined : Number(taskMsArg);
if (taskMs !== undefined && !(taskMs > 0)) throw new Error('task-ms must be a positive number');
const taskDurations =
  taskMs === undefined ? undefined : Object.fromEntries(Object.keys(DEFAULT_TASK_DURATIONS).map((t) => [t, taskMs]));

const tokenId = 'root@pam!bench';
const sim = await startSimulator({
  clock: new SystemClock(),
  seed: largeSeed({ vms, nodes, cluster: 'bench' }),
  tokens: [{ tokenid: tokenId, secret }],
  taskDurations,
});
process.stdout.write(`READY ${JSON.stringify({ port: sim.port, tokenId })}\n`);

const stop = () => void sim.stop().then(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
