// Which word on a guest is newer: a read of it alone after its task, or a sync's inventory (actors/guest-reads.ts).
import { describe, expect, it } from 'vitest';
import { GuestReads } from '../../actors/guest-reads';

describe('guest reads against inventories', () => {
  it('guest reads - a sync asked for before a read began leaves that VM alone; one asked for at or after does not', () => {
    const reads = new GuestReads();
    reads.begin('lab/103', 1_000);
    expect(reads.newerThan('lab/103', 999)).toBe(true);
    expect(reads.newerThan('lab/103', 1_000)).toBe(true);
    expect(reads.newerThan('lab/103', 1_001)).toBe(false);
    expect(reads.newerThan('lab/104', 0)).toBe(false);
  });

  it("guest reads - an inventory asked for after a read began drops the read's answer and its entry, in its cluster only", () => {
    const reads = new GuestReads();
    reads.begin('lab/103', 1_000);
    reads.begin('edge/103', 1_000);
    reads.inventoryApplied('lab', 999);
    expect(reads.current('lab', 1_000)).toBe(true);
    expect(reads.size).toBe(2);
    reads.inventoryApplied('lab', 1_001);
    expect(reads.current('lab', 1_000)).toBe(false);
    expect(reads.current('edge', 1_000)).toBe(true);
    expect(reads.newerThan('lab/103', 0)).toBe(false);
    expect(reads.newerThan('edge/103', 0)).toBe(true);
    // An older inventory applied late does not move the cluster's newest back.
    reads.inventoryApplied('lab', 500);
    expect(reads.current('lab', 1_000)).toBe(false);
  });

  it('guest reads - a read begun earlier than the one recorded does not replace it', () => {
    const reads = new GuestReads();
    reads.begin('lab/103', 2_000);
    reads.begin('lab/103', 1_000);
    expect(reads.newerThan('lab/103', 1_500)).toBe(true);
  });
});
