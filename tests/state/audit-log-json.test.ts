// canonicalDataJson (the audit data column in one pass) gives exactly canonicalJson's text for plain data, and
// hands everything else to canonicalJson (which also throws its SerializationError).
import { describe, expect, it } from 'vitest';
import { canonicalJson, SerializationError } from '../../state';
import { canonicalDataJson } from '../../state/audit-log-json';

const noProto = Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: [2] });
const withProtoKey = JSON.parse('{"__proto__": {"x": 1}, "a": 1}') as unknown;

const samples: [string, unknown][] = [
  ['a VM issue', { type: 'issue', kind: 'unexpected-stop', cluster: 'lab', vmid: 101, at: 5, detail: 'VM "x"\n' }],
  ['nested objects and arrays, keys out of order', { z: { b: [1, { d: 1, c: 2 }], a: null }, a: [[], {}] }],
  ['undefined members, functions and symbols', { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1] }],
  ['non-finite and negative-zero numbers', { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: -0, d: [Number.NaN] }],
  ['numbers in exponent form', { a: 1e21, b: 1e-7, c: 0.1 + 0.2, d: -123.5 }],
  ['strings that need escaping', { 'k"\\': 'line\u2028 \u0001 \ud800 é' }],
  ['index-like keys (the engine orders them first)', { b: 1, 10: 'ten', 9: 'nine', a: 2, '01': 'not an index' }],
  ['a Date (toJSON)', { at: new Date(0) }],
  ['a toJSON method', { v: { toJSON: () => ({ y: 1, x: 2 }) } }],
  ['boxed primitives', { s: new String('s'), n: new Number(2), b: new Boolean(false) }],
  ['a Map and a Set (no members)', { m: new Map([[1, 2]]), s: new Set([1]) }],
  ['an object without a prototype', noProto],
  ['an own __proto__ key', withProtoKey],
  ['top-level primitives', 'text'],
  ['top-level null', null],
  ['top-level undefined', undefined],
  // biome-ignore lint/suspicious/noSparseArray: the hole is the point
  ['a sparse array', [1, , 3]],
  ['a deep structure', JSON.parse(`${'['.repeat(60)}1${']'.repeat(60)}`)],
];

describe('audit data JSON', () => {
  for (const [what, value] of samples) {
    it(`audit data JSON - ${what}: the same text as canonicalJson`, () => {
      expect(canonicalDataJson(value)).toBe(canonicalJson(value, 'audit data'));
    });
  }

  it('audit data JSON - a circular structure, a BigInt or a function throws SerializationError', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(() => canonicalDataJson(circular)).toThrow(SerializationError);
    expect(() => canonicalDataJson({ n: 1n })).toThrow(SerializationError);
    expect(() => canonicalDataJson(() => 1)).toThrow(SerializationError);
  });
});
