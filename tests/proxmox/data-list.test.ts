// Reading a PVE answer's `data` list in slices as the body arrives (adapters/proxmox/data-list.ts): the slices
// together are exactly what JSON.parse of the whole body gives, whatever the entries hold and however the bytes are
// cut; anything else is read whole; a body cut short or broken is a failure, never a shorter list.
import { describe, expect, it } from 'vitest';
import { type ListSink, readDataList } from '../../adapters/proxmox/data-list';

/** A sink that keeps what it is handed and counts the turns it asked for. */
function collector(turnEvery = 0) {
  const entries: unknown[] = [];
  const firsts: number[] = [];
  let calls = 0;
  let turns = 0;
  const sink: ListSink = {
    add(slice, first) {
      firsts.push(first);
      entries.push(...slice);
    },
    due() {
      calls++;
      if (turnEvery === 0 || calls % turnEvery !== 0) return undefined;
      turns++;
      return new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
  return { sink, entries, firsts, turns: () => turns };
}

/** The body as a stream of byte chunks of the given sizes (cycled). */
function streamOf(body: string | Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const size = sizes[i++ % sizes.length] ?? 1;
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** Entries like /cluster/resources, some of them with the cut marker `},{` inside strings and nested values. */
function tricky(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const e: Record<string, unknown> = { id: `qemu/${100 + i}`, type: 'qemu', vmid: 100 + i, node: 'pve1' };
    if (i % 7 === 0) e.name = `odd},{"vmid":${i}},{name`;
    if (i % 11 === 0) e.nested = [{ a: 1 }, { b: [{ c: '},{' }, {}] }];
    if (i % 13 === 0) e.note = 'zoë ☃ 𝄞 \\ "quoted" \n';
    out.push(e);
  }
  out.push('garbage', null, 42, [1, { x: '},{' }]);
  return out;
}

describe('data list', () => {
  it('data list - a long list is handed over in slices that together are exactly the list, however the bytes are cut', async () => {
    const data = tricky(6000);
    const body = JSON.stringify({ data });
    for (const sizes of [[65_536], [1, 2, 3, 5, 8, 13_000], [7], [300_001]]) {
      const got = collector(3);
      const read = await readDataList(streamOf(body, sizes), got.sink);
      expect(read).toEqual({ list: true, entries: data.length });
      expect(got.entries).toEqual(data);
      expect(got.firsts[0]).toBe(0);
      expect(got.firsts.length).toBeGreaterThan(sizes[0] === 300_001 ? 1 : 3);
    }
  });

  it('data list - a list whose every entry holds the cut marker in a string is still read exactly', async () => {
    const data = Array.from({ length: 5_000 }, (_, i) => ({ vmid: i, name: `a},{"b":${i}},{c` }));
    const got = collector();
    expect(await readDataList(streamOf(JSON.stringify({ data }), [10_000]), got.sink)).toMatchObject({ list: true });
    expect(got.entries).toEqual(data);
  });

  it('data list - the sink is asked between slices and its turns are awaited', async () => {
    const data = Array.from({ length: 20_000 }, (_, i) => ({ id: `qemu/${i + 100}`, vmid: i + 100, name: `vm-${i}` }));
    const got = collector(1);
    await readDataList(streamOf(JSON.stringify({ data }), [16_384]), got.sink);
    expect(got.turns()).toBeGreaterThan(8);
    expect(got.entries).toEqual(data);
  });

  it('data list - an empty list, a short answer and a byte order mark', async () => {
    const empty = collector();
    expect(await readDataList(streamOf('{"data":[]}', [4]), empty.sink)).toEqual({ list: true, entries: 0 });
    expect(empty.entries).toEqual([]);
    const bom = collector();
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"data":[{"a":"☃"}]}')]);
    expect(await readDataList(streamOf(withBom, [1]), bom.sink)).toEqual({ list: true, entries: 1 });
    expect(bom.entries).toEqual([{ a: '☃' }]);
    const bomWhole = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{ "data": [1] }')]);
    expect(await readDataList(streamOf(bomWhole, [2]), collector().sink)).toEqual({ list: true, entries: 1 });
    expect(await readDataList(streamOf('{}', [1]), collector().sink)).toEqual({ list: false, data: undefined });
    expect(await readDataList(null, collector().sink).catch((e: unknown) => e)).toBeInstanceOf(SyntaxError);
  });

  it('data list - other envelopes are read whole: spaces, keys around the list, data that is not a list', async () => {
    const data = tricky(3000);
    const spaced = collector();
    expect(await readDataList(streamOf(JSON.stringify({ data }, null, 1), [9_999]), spaced.sink)).toMatchObject({
      list: true,
    });
    expect(spaced.entries).toEqual(data);
    const extra = collector();
    const withTotal = `{"data":${JSON.stringify(data)},"total":${data.length}}`;
    expect(await readDataList(streamOf(withTotal, [5_000]), extra.sink)).toMatchObject({ list: true });
    expect(extra.entries).toEqual(data);
    expect(await readDataList(streamOf('{"data":{"vms":[]}}', [3]), collector().sink)).toEqual({
      list: false,
      data: { vms: [] },
    });
    // A second `data` key wins, as in JSON.parse: the list read before it does not count.
    const twice = `{"data":${JSON.stringify(data)},"data":null}`;
    expect(await readDataList(streamOf(twice, [5_000]), collector().sink)).toEqual({ list: false, data: null });
  });

  it('data list - a body cut short or broken is a failure, never a shorter list', async () => {
    const body = JSON.stringify({ data: tricky(3000) });
    for (const cut of [body.length - 1, body.length - 2, Math.floor(body.length / 2), 12]) {
      const got = collector();
      await expect(readDataList(streamOf(body.slice(0, cut), [4_096]), got.sink)).rejects.toBeInstanceOf(SyntaxError);
    }
    const broken = `${body.slice(0, 200_000)}}}${body.slice(200_000)}`;
    await expect(readDataList(streamOf(broken, [4_096]), collector().sink)).rejects.toBeInstanceOf(SyntaxError);
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body.slice(0, 150_000)));
        controller.error(new Error('connection reset'));
      },
    });
    await expect(readDataList(failing, collector().sink)).rejects.toThrow('connection reset');
  });
});
