import { describe, expect, test } from 'vitest';
import { isValidUnitName, parseDf, parseIsActive, parseLoadavg, parseUptime, shellQuote } from '../../adapters/ssh';

describe('ssh parsing', () => {
  test('ssh parsing - /proc/uptime and /proc/loadavg', () => {
    expect(parseUptime('2901.81 4876.61\n')).toBe(2901.81);
    expect(parseUptime('')).toBeUndefined();
    expect(parseUptime('garbage')).toBeUndefined();
    expect(parseLoadavg('0.65 0.97 0.77 2/146 3688\n')).toEqual([0.65, 0.97, 0.77]);
    expect(parseLoadavg('0.65 x 0.77')).toBeUndefined();
    expect(parseLoadavg('0.65')).toBeUndefined();
  });

  test('ssh parsing - df -P gives the used fraction per mount, spaces included, empty filesystems left out', () => {
    const out = [
      'Filesystem     1024-blocks     Used Available Capacity Mounted on',
      '/dev/vda         264212084 24298644  82092268      23% /',
      'tmpfs             12342040        0  12342040       0% /sys/fs/cgroup',
      'proc                     0        0         0       -  /proc',
      'my share             1000      750       250      75% /mnt/my disk',
      '',
    ].join('\n');
    const disk = parseDf(out);
    expect(disk.map((d) => d.mount)).toEqual(['/', '/sys/fs/cgroup', '/mnt/my disk']);
    expect(disk[0]!.usedFraction).toBeCloseTo(24298644 / (24298644 + 82092268), 10);
    expect(disk[1]!.usedFraction).toBe(0);
    expect(disk[2]!.usedFraction).toBe(0.75);
  });

  test('ssh parsing - systemctl is-active answers, a missing systemctl and a host without systemd', () => {
    expect(parseIsActive('nginx', 0, 'active\n', '')).toEqual({ name: 'nginx', active: true, state: 'active' });
    expect(parseIsActive('nginx', 3, 'inactive\n', '')).toEqual({ name: 'nginx', active: false, state: 'inactive' });
    expect(parseIsActive('nginx', 3, 'failed\n', '')).toEqual({ name: 'nginx', active: false, state: 'failed' });
    expect(parseIsActive('nginx', 127, '', 'sh: 1: systemctl: not found\n')).toEqual({
      name: 'nginx',
      active: false,
      error: 'systemctl is not available on the host',
    });
    expect(
      parseIsActive('nginx', 1, '', "System has not been booted with systemd as init system (PID 1). Can't operate.\n"),
    ).toEqual({
      name: 'nginx',
      active: false,
      error: "System has not been booted with systemd as init system (PID 1). Can't operate.",
    });
  });

  test('ssh parsing - unit names are validated and words are shell-quoted', () => {
    expect(isValidUnitName('nginx.service')).toBe(true);
    expect(isValidUnitName('getty@tty1.service')).toBe(true);
    expect(isValidUnitName('a;b')).toBe(false);
    expect(isValidUnitName('-H')).toBe(false);
    expect(isValidUnitName('')).toBe(false);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
