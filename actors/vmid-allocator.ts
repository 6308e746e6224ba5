// VMIDs for clones. PVE's `/cluster/nextid` reserves nothing: two clones that ask at once get the same id, and one
// of them then fails ("VM <id> already exists") and must ask again. Within this core that race is avoidable: an id
// read from nextid is handed to one clone only, and held for `holdMs` (on the injected clock), by when the platform shows
// the guest; a second clone that reads the same id gets the next one not held. A clone from elsewhere (another
// process, a person) can still take an id first: the executor then asks again, as before.
import type { Clock } from '../adapters/clock';
import type { Platform } from '../adapters/platform/types';

/** How long an id handed out stays held: longer than a clone's config takes to appear on the platform. */
export const VMID_HOLD_MS = 120_000;

export class VmidAllocator {
  /** cluster → id → held until (epoch ms) */
  private readonly held = new Map<string, Map<number, number>>();

  constructor(
    private readonly clock: Clock,
    private readonly holdMs = VMID_HOLD_MS,
  ) {}

  /** A VMID for a clone on `cluster`: nextid's answer, or the next one not already handed to another clone. */
  async next(cluster: string, platform: Pick<Platform, 'nextId'>): Promise<number> {
    const read = await platform.nextId();
    // From here to the return there is no await: two callers never take the same id.
    const now = this.clock.now();
    const held = this.heldOn(cluster, now);
    let id = read;
    while (held.has(id)) id++;
    held.set(id, now + this.holdMs);
    return id;
  }

  /** A clone that failed for another reason than its VMID made nothing: the id is free for the next clone. */
  release(cluster: string, vmid: number | undefined): void {
    if (vmid !== undefined) this.held.get(cluster)?.delete(vmid);
  }

  private heldOn(cluster: string, now: number): Map<number, number> {
    let held = this.held.get(cluster);
    if (!held) {
      held = new Map();
      this.held.set(cluster, held);
    }
    for (const [id, until] of held) if (until <= now) held.delete(id);
    return held;
  }
}
