// The maintenance windows and silences in force or scheduled, kept in memory in the system view (the gate reads
// only the view): loaded from the store at start, changed with every start, end, add and remove, and expired by
// time — every read takes `now` and drops what has run out (nothing waits on a timer).
import type { MaintenanceWindow, Silence } from '../machines/maintenance';

export class MaintenanceBoard {
  private readonly windowsById = new Map<string, MaintenanceWindow>();
  private readonly silencesById = new Map<string, Silence>();

  /** Replaces everything with the given entries (at start). */
  load(windows: Iterable<MaintenanceWindow>, silences: Iterable<Silence>): void {
    this.windowsById.clear();
    this.silencesById.clear();
    for (const w of windows) this.windowsById.set(w.id, w);
    for (const s of silences) this.silencesById.set(s.id, s);
  }

  setWindow(window: MaintenanceWindow): void {
    this.windowsById.set(window.id, window);
  }
  removeWindow(id: string): void {
    this.windowsById.delete(id);
  }
  setSilence(silence: Silence): void {
    this.silencesById.set(silence.id, silence);
  }
  removeSilence(id: string): void {
    this.silencesById.delete(id);
  }

  /** The windows not yet run out at `now` (in force, or scheduled to start later). */
  windows(now: number): MaintenanceWindow[] {
    return live(this.windowsById, now);
  }

  /** The silences not yet run out at `now`. */
  silences(now: number): Silence[] {
    return live(this.silencesById, now);
  }
}

function live<T extends { until: number }>(entries: Map<string, T>, now: number): T[] {
  const out: T[] = [];
  for (const [id, entry] of entries) {
    if (entry.until <= now) entries.delete(id);
    else out.push(entry);
  }
  return out;
}
