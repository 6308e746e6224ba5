// Reads the `data` list of a PVE answer (`{"data":[{...},{...},...]}`) from the body as it arrives, a slice of
// entries at a time, each slice parsed by JSON.parse and handed to a sink, so that a 100k-guest /cluster/resources
// (30 MB) is never decoded or parsed in one block and its raw entries die young.
//
// The bytes are kept in one buffer and cut there: a slice ends just after an entry that ends in `}` followed by
// `,{`. The byte before the slice (the list's `[` or the `,` of the previous cut) becomes `[` and the `,` after it
// `]`, so the slice is decoded straight into the JSON text of an array (one string, no copies of the body as text).
// A cut that falls inside a string or a nested value leaves that array unterminated, so JSON.parse refuses it; the
// next `},{` is tried then, and after a few such misses in a row the rest is parsed whole at the end. Every slice
// that was parsed therefore ends between two entries, and the slices together are exactly the list. Anything other
// than the expected opening (`{"data":[`, after a byte order mark if any) is read whole and parsed once, as
// res.json() would. The answer only counts once the whole body was read and parsed: a body cut short, a broken slice
// or invalid JSON makes the read fail, and the entries already handed to the sink are then worthless (the caller
// drops it).

/** Where the entries of a list go, in order, as they are parsed. */
export interface ListSink {
  /** The next entries of the list; `first` is the index in the list of `entries[0]`. */
  add(entries: unknown[], first: number): void;
  /** A promise when the event loop is due a turn (the sink keeps the time budget); undefined otherwise. */
  due(): Promise<void> | undefined;
}

/** What the envelope's `data` turned out to be. */
export type DataRead = { list: true; entries: number } | { list: false; data: unknown };

const OPENING = '{"data":[';
const OPENING_BYTES = Buffer.from(OPENING);
const BETWEEN = Buffer.from('},{');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** Bytes of body per slice (a few hundred /cluster/resources entries). */
export const LIST_SLICE_BYTES = 32 * 1024;
/** Cuts in a row that may fall inside a value before the rest of the list is parsed whole. */
const MAX_MISSED_CUTS = 3;

/**
 * Reads `body` (a JSON answer) and hands the entries of its `data` list to `sink`. Resolves with what `data` was:
 * a list (its entries all handed over) or anything else (returned as it is; what was handed over does not count).
 */
export async function readDataList(body: AsyncIterable<Uint8Array> | null, sink: ListSink): Promise<DataRead> {
  const slicer = new ListSlicer(sink);
  if (body) {
    for await (const chunk of body) {
      if (slicer.push(chunk)) await slicer.drain();
    }
  }
  return slicer.end();
}

/** The bytes not parsed yet and where the list stands. */
class ListSlicer {
  /** 'opening': too few bytes to tell; 'list': cutting slices; 'rest': the rest of the list is parsed at the end;
   * 'whole': not the expected opening, the body is parsed whole at the end. */
  private mode: 'opening' | 'list' | 'rest' | 'whole' = 'opening';
  private buf = Buffer.allocUnsafe(4 * LIST_SLICE_BYTES);
  /** Bytes in `buf`. */
  private length = 0;
  /** Where the next entry starts in `buf` (the byte before it is the `[` or a `,`). */
  private from = 0;
  /** Where to look for the next cut (what lies before was searched already). */
  private searchFrom = 0;
  /** Entries handed to the sink so far. */
  private count = 0;
  /** Cuts in a row that JSON.parse refused. */
  private misses = 0;

  constructor(private readonly sink: ListSink) {}

  /** Adds bytes; true when a slice may be ready. */
  push(bytes: Uint8Array): boolean {
    this.append(bytes);
    if (this.mode === 'opening') this.open();
    return this.mode === 'list' && this.length > this.searchFrom + BETWEEN.length;
  }

  /** Parses and hands over every complete slice in the buffer, giving the event loop its turns. */
  async drain(): Promise<void> {
    while (this.mode === 'list') {
      const start = Math.max(this.searchFrom, this.from + LIST_SLICE_BYTES);
      const cut = start >= this.length ? -1 : this.buf.subarray(0, this.length).indexOf(BETWEEN, start);
      if (cut < 0) {
        // Searched up to the end (less what may be the start of a `},{` cut in two).
        this.searchFrom = Math.max(start, this.length - BETWEEN.length + 1);
        break;
      }
      const open = this.from - 1;
      const close = cut + 1;
      this.buf[open] = OPEN_BRACKET;
      this.buf[close] = CLOSE_BRACKET;
      let entries: unknown[];
      try {
        entries = JSON.parse(this.buf.toString('utf8', open, close + 1)) as unknown[];
      } catch {
        // A cut inside a string or a nested value (or broken JSON): the next `},{` is tried, a few times; then the
        // rest is parsed whole at the end.
        this.buf[close] = COMMA;
        this.searchFrom = cut + 1;
        if (++this.misses > MAX_MISSED_CUTS) this.mode = 'rest';
        continue;
      }
      this.misses = 0;
      this.hand(entries);
      this.from = cut + 2;
      this.searchFrom = this.from + LIST_SLICE_BYTES;
      const turn = this.sink.due();
      if (turn) await turn;
    }
    this.compact();
  }

  /** The body is all there: parses what is left. */
  end(): DataRead {
    let envelope: unknown;
    if (this.mode === 'list' || this.mode === 'rest') {
      // The list's remaining entries and whatever closes the envelope, with the opening put back.
      envelope = JSON.parse(OPENING + this.buf.toString('utf8', this.from, this.length));
    } else {
      const start = this.length >= BOM.length && this.buf.subarray(0, BOM.length).equals(BOM) ? BOM.length : 0;
      envelope = JSON.parse(this.buf.toString('utf8', start, this.length));
    }
    const data = (envelope as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) return { list: false, data };
    this.hand(data);
    return { list: true, entries: this.count };
  }

  /** Tells the expected opening (after a byte order mark) from anything else, once there are bytes enough. */
  private open(): void {
    const bom = this.length >= BOM.length && this.buf.subarray(0, BOM.length).equals(BOM) ? BOM.length : 0;
    const need = bom + OPENING_BYTES.length;
    if (this.length < need) return; // too short to tell yet
    if (!this.buf.subarray(bom, need).equals(OPENING_BYTES)) {
      this.mode = 'whole';
      return;
    }
    this.mode = 'list';
    this.from = need;
    this.searchFrom = this.from + LIST_SLICE_BYTES;
  }

  private append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.length + bytes.length));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Moves what is left to the front of the buffer once the parsed part is its larger part (keeping the byte before
   * the next entry). */
  private compact(): void {
    const keepFrom = this.from - 1;
    if (this.mode !== 'list' || keepFrom < this.length - keepFrom) return;
    this.buf.copy(this.buf, 0, keepFrom, this.length);
    this.length -= keepFrom;
    this.searchFrom -= keepFrom;
    this.from = 1;
  }

  private hand(entries: unknown[]): void {
    if (entries.length === 0) return;
    this.sink.add(entries, this.count);
    this.count += entries.length;
  }
}
