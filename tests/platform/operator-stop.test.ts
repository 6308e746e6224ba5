// Issue 10, item 4: an operator's stop is not a crash. Over HTTPS against the simulator, with the real adapter and
// runtime: a stop made in the PVE web UI (or with Overseer's own API token, outside Overseer) is recorded — who,
// when, which task — published, and left alone; a stop Overseer's own request made is neither.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { platformsFromConfig } from '../../actors/platforms';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { closePlatforms } from '../../adapters/proxmox';
import { TERMINAL_REQUEST_STATUSES } from '../../machines/types';
import { StateStore } from '../../state';
import { powerAs } from '../helpers/pve-operator';
import type { PlatformSim } from './helpers';
import { ADMIN, SIM_TOKEN, stackConfig, startPlatformSim, until } from './helpers';

const clock = new SystemClock();
let platformSim: PlatformSim;
let dir: string;
let store: StateStore;
let overseer: Overseer;
let platforms: ReturnType<typeof platformsFromConfig>;
let ca: string;
const events: { subject: string; payload: unknown }[] = [];

beforeEach(async () => {
  platformSim = await startPlatformSim();
  ca = readFileSync((platformSim.clusterConfig.tls as { caFile: string }).caFile, 'utf8');
  dir = mkdtempSync(join(tmpdir(), 'overseer-operator-stop-'));
  const log = createMemoryLog(clock);
  const config = parseConfig(stackConfig(platformSim.clusterConfig));
  store = StateStore.open(join(dir, 'overseer.db'));
  platforms = platformsFromConfig(config.clusters, { clock, log });
  events.length = 0;
  overseer = new Overseer({
    clock,
    log,
    config,
    store,
    platforms,
    events: { publish: (subject, payload) => events.push({ subject, payload }) },
  });
  overseer.start();
  await until(
    () => overseer.vms.size >= platformSim.sim.state.vms.size,
    10_000,
    () => 'the first sync',
  );
});
afterEach(async () => {
  overseer.stop();
  store.close();
  await closePlatforms(platforms.values());
  await platformSim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const vmState = (vmid: number) => String(overseer.vms.get(`lab/${vmid}`)?.getSnapshot().value);
const stoppedByOperator = () => store.audit.list({ kind: 'vm.stopped_by_operator' }).map((r) => r.data);
const starts = (vmid: number) =>
  platformSim.sim.oplog.filter((e) => e.op === 'start' && e.vmid === vmid && e.result === 'started').length;

describe('platform operator stop', () => {
  it('platform - a stop made in the PVE web UI is recorded (who, when, which task), published and left alone', async () => {
    const upid = await powerAs(platformSim.sim, 'root@pam', 100, 'stop', ca);
    await until(
      () => vmState(100) === 'stopped',
      10_000,
      () => `vm 100 stopped (it is ${vmState(100)})`,
    );
    expect(stoppedByOperator()).toEqual([
      expect.objectContaining({ cluster: 'lab', vmid: 100, user: 'root@pam', upid, task: 'qmstop' }),
    ]);
    const at = (stoppedByOperator()[0] as { at: number }).at;
    expect(at).toBe(Number.parseInt(upid.split(':')[4] as string, 16) * 1000);
    expect(events.map((e) => e.subject)).toContainEqual(
      expect.stringMatching(/evt\.vm\.lab\.100\.stopped_by_operator$/),
    );

    // Several monitor cycles later: no incident, no start.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(store.incidents.listOpen()).toEqual([]);
    expect(store.audit.list({ kind: 'vm.unexpected-stop' })).toEqual([]);
    expect(starts(100)).toBe(0);
    expect(vmState(100)).toBe('stopped');
  });

  it("platform - a stop made with Overseer's own API token outside Overseer is still someone else's decision", async () => {
    await powerAs(platformSim.sim, SIM_TOKEN.tokenid, 103, 'shutdown', ca);
    await until(
      () => vmState(103) === 'stopped',
      10_000,
      () => `vm 103 stopped (it is ${vmState(103)})`,
    );
    expect(stoppedByOperator()).toEqual([expect.objectContaining({ vmid: 103, user: SIM_TOKEN.tokenid })]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(store.incidents.listOpen()).toEqual([]);
    expect(starts(103)).toBe(0);
  });

  it("platform - Overseer's own stop request is neither an operator's stop nor an incident", async () => {
    const result = await overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      params: {},
      force: false,
      requester: ADMIN,
    });
    expect(result.decision, result.reasons.join('; ')).toBe('approved');
    await until(
      () => TERMINAL_REQUEST_STATUSES.has(store.requests.get(result.requestId)?.status ?? 'received'),
      10_000,
      () => 'the stop to end',
    );
    await new Promise((r) => setTimeout(r, 2_000));
    expect(vmState(101)).toBe('stopped');
    expect(stoppedByOperator()).toEqual([]);
    expect(store.incidents.listOpen()).toEqual([]);
  });

  it('platform - a guest that dies with no task behind it is an incident, and Overseer starts it again', async () => {
    platformSim.sim.faults.crashVm(106);
    await until(
      () => starts(106) === 1,
      10_000,
      () => 'a start of 106',
    );
    expect(stoppedByOperator()).toEqual([]);
    expect(store.audit.list({ kind: 'vm.unexpected-stop' })).toHaveLength(1);
  });
});
