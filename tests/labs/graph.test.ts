import { describe, expect, it } from 'vitest';
import { buildLabGraph, expandMembers, formatIssue } from '../../machines/lab';

const vm = (name: string, dependsOn: string[] = [], count = 1) => ({ name, count, dependsOn });

describe('labs - members and dependency graph', () => {
  it('labs - count expands a VM into members <name>-<n>, a single member keeps the name', () => {
    const members = expandMembers([vm('router'), vm('web', [], 3)]);
    expect(members.map((m) => [m.name, m.vm, m.vmIndex, m.ordinal])).toEqual([
      ['router', 'router', 0, 1],
      ['web-1', 'web', 1, 1],
      ['web-2', 'web', 1, 2],
      ['web-3', 'web', 1, 3],
    ]);
  });

  it('labs - waves are the topological levels: router, then db, then the three webs together', () => {
    const graph = buildLabGraph([vm('web', ['db'], 3), vm('db', ['router']), vm('router')]);
    expect(graph.issues).toEqual([]);
    expect(graph.waves).toEqual([['router'], ['db'], ['web-1', 'web-2', 'web-3']]);
    expect(graph.members.find((m) => m.name === 'web-2')!.dependsOn).toEqual(['db']);
  });

  it('labs - depending on a VM with a count means on all its members; a member can be named alone', () => {
    const graph = buildLabGraph([vm('dc', [], 2), vm('client', ['dc']), vm('backup', ['dc-2'])]);
    expect(graph.members.find((m) => m.name === 'client')!.dependsOn).toEqual(['dc-1', 'dc-2']);
    expect(graph.members.find((m) => m.name === 'backup')!.dependsOn).toEqual(['dc-2']);
    expect(graph.waves).toEqual([
      ['dc-1', 'dc-2'],
      ['client', 'backup'],
    ]);
  });

  it('labs - a wave only waits for what it depends on (diamond)', () => {
    const graph = buildLabGraph([vm('a'), vm('b', ['a']), vm('c', ['a']), vm('d', ['b', 'c']), vm('e')]);
    expect(graph.waves).toEqual([['a', 'e'], ['b', 'c'], ['d']]);
  });

  it('labs - a missing dependency is an issue at its path, listing the VMs', () => {
    const graph = buildLabGraph([vm('router'), vm('db', ['routr'])]);
    expect(graph.issues.map(formatIssue)).toEqual([
      "vms[1].dependsOn[0]: unknown dependency 'routr' (VMs: 'router', 'db')",
    ]);
  });

  it('labs - a cycle is one issue naming the members around it', () => {
    const graph = buildLabGraph([vm('router', ['web']), vm('db', ['router']), vm('web', ['db'])]);
    expect(graph.issues.map(formatIssue)).toEqual([
      'vms[0].dependsOn[0]: dependency cycle: router → web → db → router',
    ]);
    expect(graph.waves).toEqual([]);
  });

  it('labs - a cycle through members of a count names every member caught in it', () => {
    const graph = buildLabGraph([vm('db', ['web']), vm('web', ['db'], 3)]);
    expect(graph.issues.map(formatIssue)).toEqual([
      'vms[0].dependsOn[0]: dependency cycle: db → web-1 → db (members in the cycle: db, web-1, web-2, web-3)',
    ]);
  });

  it('labs - a VM depending on itself, or its members on each other, is a cycle', () => {
    expect(buildLabGraph([vm('a', ['a'])]).issues.map(formatIssue)).toEqual([
      'vms[0].dependsOn[0]: dependency cycle: a → a',
    ]);
    expect(buildLabGraph([vm('web', ['web-1'], 2)]).issues.map(formatIssue)).toEqual([
      'vms[0].dependsOn[0]: dependency cycle: web-1 → web-1',
    ]);
  });

  it('labs - two separate cycles are two issues, the rest of the graph is untouched', () => {
    const graph = buildLabGraph([vm('a', ['b']), vm('b', ['a']), vm('c'), vm('d', ['e']), vm('e', ['d'])]);
    expect(graph.issues.map(formatIssue)).toEqual([
      'vms[0].dependsOn[0]: dependency cycle: a → b → a',
      'vms[3].dependsOn[0]: dependency cycle: d → e → d',
    ]);
  });
});
