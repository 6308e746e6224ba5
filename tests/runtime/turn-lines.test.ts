// createTurnLines (adapters/log.ts): the process's log lines leave in one write per event-loop turn, in their order
// and format, and nothing waits past shutdown.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTurnLines } from '../../adapters/log';

function recorded() {
  const chunks: string[] = [];
  return { chunks, lines: createTurnLines((chunk) => chunks.push(chunk)) };
}

describe('turn lines', () => {
  it('log - the lines of one turn leave as one write at its end, in order, one per line', async () => {
    const { chunks, lines } = recorded();
    lines.write('a: state changed from x to y');
    lines.write('b: state changed from y to z');
    expect(chunks).toEqual([]);
    await nextTurn();
    expect(chunks).toEqual(['a: state changed from x to y\nb: state changed from y to z\n']);
    lines.write('c');
    await nextTurn();
    expect(chunks).toEqual(['a: state changed from x to y\nb: state changed from y to z\n', 'c\n']);
  });

  it('log - flush writes what waits at once, and a turn with nothing to say writes nothing', async () => {
    const { chunks, lines } = recorded();
    lines.write('received SIGTERM; stopping');
    lines.flush();
    expect(chunks).toEqual(['received SIGTERM; stopping\n']);
    lines.flush();
    await nextTurn();
    expect(chunks).toHaveLength(1);
  });

  it('log - a turn that logs more than a thousand lines writes them as it goes, none lost or reordered', async () => {
    const { chunks, lines } = recorded();
    for (let i = 0; i < 2_500; i++) lines.write(`line ${i}`);
    expect(chunks).toHaveLength(2);
    await nextTurn();
    const all = chunks.join('').split('\n');
    expect(all.pop()).toBe('');
    expect(all).toEqual(Array.from({ length: 2_500 }, (_, i) => `line ${i}`));
  });
});
