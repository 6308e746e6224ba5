import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { SystemClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { createMemoryKnownHosts, createSshChecker } from '../../adapters/ssh';
import { StateStore } from '../../state';
import { demoInventory } from '../helpers/inventory';
import type { TestSshd } from '../helpers/sshd';
import { startSshd } from '../helpers/sshd';

let sshd: TestSshd;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'overseer-ssh-'));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ssh checks', () => {
  it('ssh - a guest checked over real SSH feeds the monitor; a changed host key raises an escalated incident', async () => {
    const clock = new SystemClock();
    const log = createMemoryLog(clock);
    const store = StateStore.open(join(dir, 'overseer.db'));
    const target = {
      id: 'vm:lab/101',
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
      hostKey: sshd.hostKeyFingerprint,
    };
    const overseer = new Overseer({
      clock,
      log,
      config: parseConfig({}),
      store,
      platforms: new Map(),
      ssh: {
        checker: createSshChecker({ clock, log, knownHosts: createMemoryKnownHosts({ tofu: false }) }),
        targets: () => [target],
        intervalMs: 0,
      },
    });
    try {
      overseer.observe(demoInventory({ at: clock.now() }));
      await overseer.monitor.cycle();
      // The guest is reachable (its real load and disk may open usage incidents on a busy machine; not these).
      const sshKinds = () =>
        store.incidents.listOpen().filter((i) => i.kind === 'guest-unreachable' || i.kind === 'guest-host-key-changed');
      expect(sshKinds()).toEqual([]);

      await sshd.restartWithNewHostKey();
      await overseer.monitor.cycle();
      const open = sshKinds();
      expect(open).toEqual([
        expect.objectContaining({ kind: 'guest-host-key-changed', subject: 'vm:lab/101', status: 'escalated' }),
      ]);
      // The new key was refused, never recorded: the next check still refuses it.
      await overseer.monitor.cycle();
      expect(sshKinds()).toHaveLength(1);
    } finally {
      overseer.stop();
      store.close();
    }
  }, 30_000);
});
