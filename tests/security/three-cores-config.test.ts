// deploy/three-cores: the cluster member's nats-server config (which includes deploy/nats-server.conf's users) is
// one nats-server 2.9 accepts, and the core user may write the leases and the record (their KV buckets).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findNatsServerBinary } from '../../adapters/nats';
import { natsServerAvailable } from '../helpers/nats-server';

const deploy = join(import.meta.dirname, '../../deploy');

describe.runIf(natsServerAvailable)('security - deploy/three-cores', () => {
  it('security - the cluster member config is valid for nats-server', () => {
    const check = spawnSync(
      findNatsServerBinary() ?? 'nats-server',
      ['-t', '-c', join(deploy, 'three-cores/nats-node.conf')],
      {
        env: {
          ...process.env,
          NATS_SERVER_NAME: 'nats-1',
          OVERSEER_NATS_CORE_PASS: 'x',
          OVERSEER_NATS_GATEWAY_PASS: 'y',
          OVERSEER_NATS_EVENTS_PASS: 'z',
        },
        encoding: 'utf8',
      },
    );
    expect(check.status, check.stderr).toBe(0);
    expect(check.stderr).toContain('is valid');
  });

  it('security - the core user may publish to the lease and record buckets, the gateway may not', () => {
    const conf = readFileSync(join(deploy, 'nats-server.conf'), 'utf8');
    const core = conf.slice(conf.indexOf('user: core'), conf.indexOf('user: gateway'));
    const gateway = conf.slice(conf.indexOf('user: gateway'), conf.indexOf('user: events'));
    expect(core).toContain('$KV.OVERSEER_LEASES_*.>');
    expect(core).toContain('$KV.OVERSEER_RECORD_*.>');
    expect(gateway).not.toContain('$KV.');
  });
});
