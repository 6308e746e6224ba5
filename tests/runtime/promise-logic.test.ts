// fromSettled (actors/promise-logic.ts): a machine invoking it goes where it goes with XState's fromPromise — onDone
// with the output, onError with the error (a thrown creator too) — and a stopped invocation ignores its outcome.
import { describe, expect, it } from 'vitest';
import { assign, createActor, fromPromise, setup, waitFor } from 'xstate';
import { fromSettled } from '../../actors/promise-logic';

type Work = (input: number) => Promise<number> | number;

function machineWith(kind: 'settled' | 'promise', work: Work) {
  const logic =
    kind === 'settled'
      ? fromSettled(({ input }: { input: number }) => work(input))
      : fromPromise(async ({ input }: { input: number }) => work(input));
  return setup({
    types: { context: {} as { result?: number; error?: string } },
    actors: { work: logic },
  }).createMachine({
    initial: 'working',
    context: {},
    states: {
      working: {
        invoke: {
          src: 'work',
          input: 21,
          onDone: { target: 'done', actions: assign({ result: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign({ error: ({ event }) => String(event.error) }) },
        },
        on: { LEAVE: 'left' },
      },
      done: { type: 'final' },
      failed: { type: 'final' },
      left: {},
    },
  });
}

async function run(kind: 'settled' | 'promise', work: Work) {
  const actor = createActor(machineWith(kind, work)).start();
  const snapshot = await waitFor(actor, (s) => s.status === 'done');
  return { value: snapshot.value, context: snapshot.context };
}

describe('promise-logic', () => {
  it('promise-logic - a resolved promise ends in onDone with its output, as with fromPromise', async () => {
    const work: Work = async (n) => n * 2;
    expect(await run('settled', work)).toEqual(await run('promise', work));
    expect((await run('settled', work)).context.result).toBe(42);
  });

  it('promise-logic - a rejection and a creator that throws both end in onError, as with fromPromise', async () => {
    const rejects: Work = async () => {
      throw new Error('no facts');
    };
    const throws: Work = () => {
      throw new Error('no gate');
    };
    expect(await run('settled', rejects)).toEqual(await run('promise', rejects));
    expect(await run('settled', throws)).toEqual({ value: 'failed', context: { error: 'Error: no gate' } });
  });

  it('promise-logic - an invocation stopped before its promise settles ignores the outcome', async () => {
    let settle: (n: number) => void = () => {};
    const actor = createActor(
      machineWith(
        'settled',
        () =>
          new Promise<number>((resolve) => {
            settle = resolve;
          }),
      ),
    ).start();
    actor.send({ type: 'LEAVE' });
    settle(5);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(actor.getSnapshot().value).toBe('left');
    expect(actor.getSnapshot().context.result).toBeUndefined();
  });
});
