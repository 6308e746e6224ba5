// Yielding to the event loop between slices of long work (a sync, a monitor cycle, a walk of the audit chain), so
// decisions waiting behind it get their turn.

/**
 * The event loop's turns between two slices: LOOP_TURNS immediates one after another, so a slice runs in at most one
 * iteration of the loop in LOOP_TURNS. Work that needs a few iterations of its own (a decision waits for its group
 * commit, an immediate; the snapshot writes a slice left are one) is done between two slices, not one slice per step.
 */
export const LOOP_TURNS = 4;

/** Resolves after `n` iterations of the event loop (n immediates, each queued by the one before). */
export function loopTurns(n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const turn = (left: number) => (left <= 1 ? setImmediate(resolve) : setImmediate(() => turn(left - 1)));
    turn(n);
  });
}

/** LOOP_TURNS iterations of the event loop: what a slice of long work leaves to others. */
export const yieldToLoop = (): Promise<void> => loopTurns(LOOP_TURNS);
