import { describe, expect, it } from 'vitest';
import {
  addToIp,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatDuration,
  formatIp,
  formatMiB,
  formatPath,
  parseCidr,
  parseDuration,
  parseIp,
  parsePath,
  parseSize,
} from '../../machines/lab';

describe('labs - sizes, durations, addresses and paths', () => {
  it('labs - sizes: numbers in the field unit, text with M/G/T', () => {
    expect(parseSize(2048, 'M')).toBe(2048);
    expect(parseSize(32, 'G')).toBe(32 * 1024);
    expect(parseSize('4G', 'M')).toBe(4096);
    expect(parseSize('4GiB', 'M')).toBe(4096);
    expect(parseSize('1.5G', 'M')).toBe(1536);
    expect(parseSize('1T', 'G')).toBe(1024 * 1024);
    expect(parseSize('0.1M', 'M')).toBeUndefined();
    expect(parseSize('lots', 'M')).toBeUndefined();
    expect([512, 2048, 1536, 1025, 11.6 * 1024].map(formatMiB)).toEqual([
      '512 MiB',
      '2 GiB',
      '1.5 GiB',
      '1025 MiB',
      '11.6 GiB',
    ]);
  });

  it('labs - durations: 90s, 5m, 8h, 1h30m, 2d; a bare number is refused', () => {
    expect(['90s', '5m', '8h', '1h30m', '2d'].map(parseDuration)).toEqual([
      90_000, 300_000, 28_800_000, 5_400_000, 172_800_000,
    ]);
    expect(parseDuration('8')).toBeUndefined();
    expect(parseDuration('8 hours')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });

  it('labs - IPv4 and IPv6: parsing, blocks, overlap, counting up', () => {
    expect(parseIp('10.0.0.256')).toBeUndefined();
    expect(parseIp('010.0.0.1')).toBeUndefined();
    expect(formatIp(parseIp('fd00:0:0:0:0:0:0:1')!)).toBe('fd00::1');
    expect(formatIp(parseIp('::ffff:10.0.0.1')!)).toBe('::ffff:a00:1');
    expect(parseIp('1::2::3')).toBeUndefined();
    const a = parseCidr('10.0.0.0/16')!;
    const b = parseCidr('10.0.200.0/24')!;
    expect(cidrsOverlap(a, b)).toBe(true);
    expect(cidrsOverlap(b, parseCidr('10.0.201.0/24')!)).toBe(false);
    expect(cidrsOverlap(a, parseCidr('fd00::/8')!)).toBe(false);
    expect(parseCidr('10.0.0.5/24')).toMatchObject({ hostBitsSet: true });
    expect(formatCidr(parseCidr('10.0.0.5/24')!)).toBe('10.0.0.0/24');
    expect(cidrContains(a, parseIp('10.0.255.255')!)).toBe(true);
    expect(formatIp(addToIp(parseIp('10.0.0.255')!, 1)!)).toBe('10.0.1.0');
    expect(addToIp(parseIp('255.255.255.255')!, 1)).toBeUndefined();
  });

  it('labs - paths format and parse back', () => {
    expect(formatPath(['vms', 2, 'networks', 0, 'vnet'])).toBe('vms[2].networks[0].vnet');
    expect(parsePath('vms[2].networks[0].vnet')).toEqual(['vms', 2, 'networks', 0, 'vnet']);
    expect(formatPath([])).toBe('');
  });
});
