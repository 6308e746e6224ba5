// Waiting on tasks: poll until stopped on the clock; success only on exitstatus OK.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PlatformTimeoutError, PveApiError, TaskFailedError } from '../../adapters/platform/errors';
import type { TaskStatus } from '../../adapters/platform/types';
import { createProxmoxPlatform, type ProxmoxPlatform, parseUpid } from '../../adapters/proxmox';
import { bare, type FakePve, type FakeReply, startFakePve } from './fake-pve';
import { configFor, settleWithClock, UPID_CLONE } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const TASK = { upid: UPID_CLONE, node: 'pve1' };
const STATUS_ROUTE = 'GET /nodes/{node}/tasks/{upid}/status';

const running: FakeReply = {
  data: {
    upid: UPID_CLONE,
    node: 'pve1',
    pid: 123456,
    pstart: 182200169,
    starttime: 1727111859,
    type: 'qmclone',
    id: '9000',
    user: 'root@pam!overseer',
    status: 'running',
  },
};
const stopped = (exitstatus: string): FakeReply => ({
  data: { ...(running.data as object), status: 'stopped', exitstatus },
});

/** Answers `running` for the first `polls` polls, then `last`. */
function sequence(fake: FakePve, polls: number, last: FakeReply | (() => FakeReply)) {
  let n = 0;
  fake.route(STATUS_ROUTE, () => (++n <= polls ? running : typeof last === 'function' ? last() : last));
  return () => n;
}

describe('tasks', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls);
    platform = createProxmoxPlatform(configFor(fake, tls, { taskPollMs: 2_000 }), { clock, log });
  });
  afterEach(() => {
    fake.requests.length = 0;
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('tasks - waitTask polls every taskPollMs until stopped OK, reporting each poll', async () => {
    const polls = sequence(fake, 3, stopped('OK'));
    const seen: TaskStatus[] = [];
    const started = clock.now();
    const done = await settleWithClock(
      platform.waitTask(TASK, { timeoutMs: 60_000, onProgress: (s) => seen.push(s) }),
      clock,
      250,
    );
    expect(done).toMatchObject({ status: 'stopped', exitstatus: 'OK', type: 'qmclone', id: '9000' });
    expect(polls()).toBe(4);
    expect(seen.map((s) => s.status)).toEqual(['running', 'running', 'running', 'stopped']);
    expect(clock.now() - started).toBeGreaterThanOrEqual(3 * 2_000);
    expect(fake.requests[0]?.path).toBe(`/nodes/pve1/tasks/${UPID_CLONE}/status`);
  });

  it('tasks - a task that stops with an error is a TaskFailedError carrying the exitstatus', async () => {
    sequence(fake, 1, stopped("can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout"));
    const err = await settleWithClock(platform.waitTask(TASK, { timeoutMs: 60_000 }), clock, 250).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toMatchObject({
      upid: UPID_CLONE,
      exitstatus: "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout",
    });
  });

  it('tasks - only OK is success: WARNINGS is a failure too', async () => {
    sequence(fake, 0, stopped('WARNINGS: 1'));
    await expect(platform.waitTask(TASK, { timeoutMs: 60_000 })).rejects.toMatchObject({
      name: 'TaskFailedError',
      exitstatus: 'WARNINGS: 1',
    });
  });

  it('tasks - a task still running at the deadline is a PlatformTimeoutError', async () => {
    sequence(fake, Number.POSITIVE_INFINITY, running);
    const started = clock.now();
    const err = await settleWithClock(platform.waitTask(TASK, { timeoutMs: 7_000 }), clock, 250).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlatformTimeoutError);
    expect((err as Error).message).toContain('still running after 7000 ms');
    expect(clock.now() - started).toBeGreaterThanOrEqual(7_000);
    expect(clock.now() - started).toBeLessThan(9_000);
  });

  it('tasks - the signal aborts the wait with its reason', async () => {
    sequence(fake, Number.POSITIVE_INFINITY, running);
    const abort = new AbortController();
    const waiting = platform.waitTask(TASK, { timeoutMs: 600_000, signal: abort.signal });
    const reason = new Error('request cancelled');
    setTimeout(() => abort.abort(reason), 30);
    await expect(settleWithClock(waiting, clock, 250)).rejects.toBe(reason);
  });

  it('tasks - a node briefly unreachable while polling is waited out', async () => {
    let n = 0;
    fake.route(STATUS_ROUTE, () => (++n === 1 ? running : n === 2 ? bare(596, 'Connection timed out') : stopped('OK')));
    await expect(settleWithClock(platform.waitTask(TASK, { timeoutMs: 60_000 }), clock, 250)).resolves.toMatchObject({
      exitstatus: 'OK',
    });
    expect(log.lines.some((l) => l.includes('will poll again'))).toBe(true);
  });

  it('tasks - a node that stays unreachable ends the wait with the 596', async () => {
    fake.route(STATUS_ROUTE, bare(596, 'Connection timed out'));
    const err = await settleWithClock(platform.waitTask(TASK, { timeoutMs: 60_000 }), clock, 250).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PveApiError);
    expect(err).toMatchObject({ status: 596, nodeUnreachable: true });
  });

  it('tasks - a status answer for another task, or without status, is refused', async () => {
    fake.route(STATUS_ROUTE, {
      data: { ...(running.data as object), upid: 'UPID:pve1:00000001:00000001:00000001:qmstart:1:root@pam:' },
    });
    await expect(platform.taskStatus(TASK)).rejects.toMatchObject({ name: 'MalformedAnswerError' });
    fake.route(STATUS_ROUTE, { data: { upid: UPID_CLONE } });
    await expect(platform.taskStatus(TASK)).rejects.toMatchObject({ name: 'MalformedAnswerError' });
  });

  it('tasks - UPIDs are parsed in PVE format, token users included', () => {
    expect(parseUpid(UPID_CLONE)).toEqual({
      upid: UPID_CLONE,
      node: 'pve1',
      pid: 0x1e240,
      pstart: 0x0adb2769,
      starttime: 0x66f1a2b3,
      type: 'qmclone',
      id: '9000',
      user: 'root@pam!overseer',
    });
    expect(parseUpid('UPID:node:000CFC5C:03E8D0C3:6194806C:aptupdate::root@pam:')?.id).toBe('');
    for (const bad of [
      '',
      'UPID:pve1:1:2:3:qmstart:100:root@pam:',
      `${UPID_CLONE}extra`,
      'ASDF:pve1:0001E240:0ADB2769:66F1A2B3:qmclone:9000:root@pam:',
    ]) {
      expect(parseUpid(bad)).toBeUndefined();
    }
  });
});
