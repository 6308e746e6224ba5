// `overseer events` resumes after the last event it showed when its stream drops (Last-Event-ID), so an event
// published while it was reconnecting is not missed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, run } from '../../cli/main';
import { subjects } from '../../protocol';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

let h: CliHarness;
beforeAll(async () => {
  h = await startHarness({ eventStream: true });
});
afterAll(() => h.close());

/** The gateway's event stream, cut after its first event (a dropped connection). */
async function cutAfterFirstEvent(res: Response): Promise<Response> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      text += decoder.decode(value, { stream: true });
      if (/(^|\n)id: \d+\n/.test(text) && text.endsWith('\n\n')) {
        controller.close();
        await reader.cancel();
      }
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
}

describe('cli events resume', () => {
  it('cli events - a dropped stream is resumed after the last event shown: nothing is missed', async () => {
    const resumeHeaders: (string | null)[] = [];
    const fetchCut: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes('/v1/events')) return res;
      resumeHeaders.push(new Headers(init?.headers).get('last-event-id'));
      return resumeHeaders.length === 1 ? cutAfterFirstEvent(res) : res;
    };
    const controller = new AbortController();
    let out = '';
    let err = '';
    const running = run(
      ['events', '--filter', 'overseer.evt.req.>'],
      { OVERSEER_URL: h.gateway.url, OVERSEER_TOKEN: h.core.tokens.observer },
      {
        fetch: fetchCut,
        stdout: (t) => {
          out += t;
          if (out.includes('r3')) controller.abort();
        },
        stderr: (t) => {
          err += t;
          if (t.startsWith('following') && resumeHeaders.length === 1) {
            h.bus.publish(subjects.evtReq('r1', 'approved'), { id: 'r1' });
          }
          if (t.startsWith('following') && resumeHeaders.length === 2) {
            h.bus.publish(subjects.evtReq('r3', 'approved'), { id: 'r3' });
          }
        },
        // While the CLI waits to reconnect, an event happens.
        sleep: async () => {
          h.bus.publish(subjects.evtReq('r2', 'approved'), { id: 'r2' });
        },
        signal: controller.signal,
      },
    );
    expect(await running).toBe(EXIT.ok);
    expect(out.trimEnd().split('\n')).toEqual([
      'overseer.evt.req.r1.approved {"id":"r1"}',
      'overseer.evt.req.r2.approved {"id":"r2"}',
      'overseer.evt.req.r3.approved {"id":"r3"}',
    ]);
    expect(resumeHeaders).toEqual([null, '1']);
    expect(err).toMatch(/event stream ended; reconnecting\nfollowing overseer\.evt\.req\.> \(from after event 1\)\n/);
  });
});
