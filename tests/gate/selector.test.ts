// Selectors: `@tag:`, `@pool:`, `@node:`, `@all`, plain VMIDs and `-` exclusions, comma-separated; parsed with a clear
// error naming the wrong term, and expanded against one cluster's inventory (sorted, templates never included).
import { describe, expect, it } from 'vitest';
import type { Selector } from '../../machines/gate';
import { expandSelector, parseSelector } from '../../machines/gate';
import type { VmInfo } from '../../machines/types';
import { makeVm } from './fixtures';

const inventory: VmInfo[] = [
  makeVm(9000, { name: 'tpl', template: true, tags: ['web'], pool: 'lab1' }),
  makeVm(103, { name: 'web-3', tags: ['web'], node: 'pve2' }),
  makeVm(101, { name: 'web-1', tags: ['Web', 'production'], pool: 'lab1' }),
  makeVm(102, { name: 'web-2', tags: ['web'], pool: 'lab1' }),
  makeVm(105, { name: 'db-1', tags: ['db', 'web'], node: 'pve2', pool: 'lab1/db' }),
  makeVm(200, { name: 'dns', type: 'lxc', tags: ['infra'], node: 'pve3' }),
  { ...makeVm(101, { name: 'elsewhere', tags: ['web'] }), cluster: 'other' },
];

function parsed(text: string): Selector {
  const result = parseSelector(text);
  if (!result.ok) throw new Error(result.error);
  return result.selector;
}

const expand = (text: string) => expandSelector(parsed(text), 'lab', inventory);
const error = (text: string) => {
  const result = parseSelector(text);
  return result.ok ? undefined : result.error;
};

describe('selector', () => {
  it('gate - a selector parses into includes and exclusions', () => {
    expect(parsed('@tag:web, @pool:lab1,-105,-@node:pve3,101,@all')).toEqual({
      text: '@tag:web, @pool:lab1,-105,-@node:pve3,101,@all',
      include: [
        { kind: 'tag', value: 'web' },
        { kind: 'pool', value: 'lab1' },
        { kind: 'vmid', vmid: 101 },
        { kind: 'all' },
      ],
      exclude: [
        { kind: 'vmid', vmid: 105 },
        { kind: 'node', value: 'pve3' },
      ],
    });
  });

  it('gate - @tag matches tags case-insensitively, sorted by VMID, templates never included', () => {
    expect(expand('@tag:web')).toEqual({ vmids: [101, 102, 103, 105], templates: [] });
  });

  it('gate - includes are a union and exclusions remove', () => {
    expect(expand('@tag:web,-105').vmids).toEqual([101, 102, 103]);
    expect(expand('@node:pve2,@pool:lab1').vmids).toEqual([101, 102, 103, 105]);
    expect(expand('@tag:web,-@node:pve2').vmids).toEqual([101, 102]);
    expect(expand('@all,-@tag:web').vmids).toEqual([200]);
  });

  it('gate - @pool and @node match exactly; @all takes every guest of the cluster only', () => {
    expect(expand('@pool:lab1').vmids).toEqual([101, 102]);
    expect(expand('@pool:lab1/db').vmids).toEqual([105]);
    expect(expand('@node:pve3').vmids).toEqual([200]);
    expect(expand('@all').vmids).toEqual([101, 102, 103, 105, 200]);
  });

  it('gate - a VMID the inventory does not hold stays a member; a template named by VMID is set aside', () => {
    expect(expand('101,999')).toEqual({ vmids: [101, 999], templates: [] });
    const named = expand('9000,102');
    expect(named.vmids).toEqual([102]);
    expect(named.templates.map((t) => t.vmid)).toEqual([9000]);
    expect(expand('9000,102,-9000').templates).toEqual([]);
  });

  it('gate - an unknown selector kind is refused by name', () => {
    expect(error('@foo:bar')).toBe(
      "unknown selector kind '@foo' (expected @tag:<tag>, @pool:<pool>, @node:<node>, @all, a VMID, or one of these after a -)",
    );
    expect(error('@tag:web,@Tag:x')).toMatch(/^unknown selector kind '@Tag'/);
  });

  it('gate - an empty value, a value of the wrong form, or @all with a value is refused', () => {
    expect(error('@tag:')).toBe("'@tag:' has an empty value (write @tag:<tag>)");
    expect(error('@node')).toBe("'@node:' has an empty value (write @node:<node>)");
    expect(error('@tag:we b')).toBe("'we b' in '@tag:we b' is not a valid tag");
    expect(error('@pool:a/b/c/d')).toBe("'a/b/c/d' in '@pool:a/b/c/d' is not a valid pool name");
    expect(error('@all:yes')).toBe("'@all' takes no value (got '@all:yes')");
  });

  it('gate - a malformed exclusion is refused by name', () => {
    expect(error('@tag:web,-abc')).toBe(
      "malformed exclusion '-abc': 'abc' is neither a VMID nor a selector term (expected @tag:<tag>, @pool:<pool>, @node:<node>, @all, a VMID, or one of these after a -)",
    );
    expect(error('@tag:web,-')).toMatch(/^malformed exclusion '-': /);
    expect(error('@tag:web,-@all')).toBe("malformed exclusion '-@all': it would exclude every guest");
    expect(error('@tag:web,-@tag:')).toBe(
      "malformed exclusion '-@tag:': '@tag:' has an empty value (write @tag:<tag>)",
    );
  });

  it('gate - empty selectors and terms, bare exclusions, words and VMIDs out of range are refused', () => {
    expect(error('')).toBe('the selector is empty');
    expect(error('@tag:web,,101')).toBe("'@tag:web,,101' has an empty term (a comma too many)");
    expect(error('-105')).toBe(
      "'-105' only excludes guests: name the ones it is about (@tag:, @pool:, @node:, @all or VMIDs)",
    );
    expect(error('web')).toMatch(/^'web' is neither a VMID nor a selector term/);
    expect(error('99')).toBe("'99' is not a VMID from 100 to 999999999");
    expect(error(`@tag:${'x'.repeat(1000)}`)).toBe('the selector is 1005 characters long (at most 1000)');
  });
});
