// Which word on a guest is newer: the read of that guest alone after a task on it (guest-refresh.ts), or a sync's
// inventory of the whole cluster. A read begun at or after an inventory was asked for is the newer: the sync leaves
// that VM as the read found it. An inventory asked for after a read began is the newer: the read's answer is dropped.
// Times are the injected clock's; a tie goes to the read (it began after its task ended, the inventory maybe not).

/** The cluster of a VM key (`<cluster>/<vmid>`: the VMID has no slash). */
const clusterOfKey = (key: string): string => key.slice(0, key.lastIndexOf('/'));

export class GuestReads {
  /** VM key → when the latest read of that guest began. */
  private readonly began = new Map<string, number>();
  /** Cluster → when the latest inventory being applied was asked for. */
  private readonly asked = new Map<string, number>();

  get size(): number {
    return this.began.size;
  }

  begin(key: string, at: number): void {
    if (!((this.began.get(key) ?? Number.NEGATIVE_INFINITY) > at)) this.began.set(key, at);
  }

  /** Whether a sync of an inventory asked for at `askedAt` leaves this VM as a read of it found it. */
  newerThan(key: string, askedAt: number): boolean {
    const began = this.began.get(key);
    return began !== undefined && began >= askedAt;
  }

  /** An inventory of `cluster` asked for at `askedAt` is being applied: the reads begun before are superseded. */
  inventoryApplied(cluster: string, askedAt: number): void {
    if (!((this.asked.get(cluster) ?? Number.NEGATIVE_INFINITY) > askedAt)) this.asked.set(cluster, askedAt);
    for (const [key, began] of this.began) {
      if (began < askedAt && clusterOfKey(key) === cluster) this.began.delete(key);
    }
  }

  /** Whether the answer to a read of a guest of `cluster` begun at `began` is still the newest word on it. */
  current(cluster: string, began: number): boolean {
    return !((this.asked.get(cluster) ?? Number.NEGATIVE_INFINITY) > began);
  }
}
