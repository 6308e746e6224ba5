// The two reads the gate makes before deciding (actors/gate-facts.ts): a VM's snapshots
// (GET /nodes/{node}/qemu/{vmid}/snapshot, PVE's `current` entry left out) and its power state now
// (GET /nodes/{node}/qemu/{vmid}/status/current) — against the PVE simulator over HTTPS, and malformed answers
// from a fake PVE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { MalformedAnswerError, PveApiError } from '../../adapters/platform/errors';
import { createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import { demoSeed, type Simulator, startSimulator } from '../../adapters/pve-sim';
import { type FakePve, startFakePve } from './fake-pve';
import { configFor, TOKEN_ID, TOKEN_SECRET } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

describe('gate reads', () => {
  let tls: TlsFixture;
  let sim: Simulator;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  let fromFake: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);

  beforeAll(async () => {
    tls = createTlsFixture();
    sim = await startSimulator({
      clock,
      tls: { cert: tls.cert, key: tls.key },
      seed: demoSeed(),
      tokens: [{ tokenid: TOKEN_ID, secret: TOKEN_SECRET }],
    });
    platform = createProxmoxPlatform(
      {
        name: 'lab',
        host: '127.0.0.1',
        port: sim.port,
        auth: { type: 'token', tokenId: TOKEN_ID, secret: TOKEN_SECRET },
        tls: { ca: tls.ca },
      },
      { clock, log },
    );
    fake = await startFakePve(tls);
    fromFake = createProxmoxPlatform(configFor(fake, tls), { clock, log });
  });
  afterAll(async () => {
    await platform?.close();
    await fromFake?.close();
    await sim?.stop();
    await fake?.close();
    tls?.cleanup();
  });

  it('snapshots - lists a VM’s snapshots without PVE’s "current" entry', async () => {
    const snapshots = await platform.listSnapshots('pve1', 111);
    expect(snapshots.map((s) => s.name)).toEqual(['before_upgrade']);
    expect(snapshots[0]).toMatchObject({ name: 'before_upgrade', description: 'Grafana 10 -> 11' });
    expect(await platform.listSnapshots('pve1', 100)).toEqual([]);
  });

  it('snapshots - a VM that is not on the node is PVE’s error', async () => {
    await expect(platform.listSnapshots('pve2', 111)).rejects.toBeInstanceOf(PveApiError);
  });

  it('snapshots - an entry without a name, or an answer that is not a list, is a malformed answer', async () => {
    fake.route('GET /nodes/pve1/qemu/101/snapshot', { data: [{ description: 'nameless' }] });
    await expect(fromFake.listSnapshots('pve1', 101)).rejects.toBeInstanceOf(MalformedAnswerError);
    fake.route('GET /nodes/pve1/qemu/101/snapshot', { data: { name: 'before' } });
    await expect(fromFake.listSnapshots('pve1', 101)).rejects.toBeInstanceOf(MalformedAnswerError);
  });

  it('power status - running, stopped and paused VMs, as status/current says now', async () => {
    expect(await platform.vmStatus('pve1', 100)).toBe('running');
    expect(await platform.vmStatus('pve3', 102)).toBe('stopped');
    expect(await platform.vmStatus('pve3', 110)).toBe('paused');
    sim.faults.crashVm(100);
    expect(await platform.vmStatus('pve1', 100)).toBe('stopped');
  });

  it('power status - an answer without a status is malformed; an unknown QEMU state is unknown', async () => {
    fake.route('GET /nodes/pve1/qemu/101/status/current', { data: { vmid: 101 } });
    await expect(fromFake.vmStatus('pve1', 101)).rejects.toBeInstanceOf(MalformedAnswerError);
    fake.route('GET /nodes/pve1/qemu/101/status/current', { data: { status: 'running', qmpstatus: 'inmigrate' } });
    expect(await fromFake.vmStatus('pve1', 101)).toBe('unknown');
  });
});
