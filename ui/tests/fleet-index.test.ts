// The guests the page knows: pages shown as they arrive (appended, or sorted in when out of order), state events
// applied in place, a destroyed guest dropped live, and a page read before an event never undoing it.
import { describe, expect, it } from 'vitest';
import type { VmView } from '../src/api/types';
import { FleetIndex } from '../src/live/fleet-index';

const vm = (vmid: number, state = 'running', cluster = 'lab'): VmView =>
  ({ cluster, vmid, name: `vm-${vmid}`, node: 'pve1', state, tags: [], type: 'qemu' }) as unknown as VmView;
const ids = (f: FleetIndex) => f.list.map((v) => `${v.cluster}/${v.vmid}`);
const counts = (f: FleetIndex, cluster = 'lab') => Object.fromEntries(f.stateCounts.get(cluster) ?? []);

describe('fleet index', () => {
  it('fleet index - the first page is listed alone, the next ones are appended in order as they arrive', () => {
    const f = new FleetIndex();
    f.put([vm(100), vm(101)]);
    expect(f.commit()).toBe(true);
    const first = f.list;
    expect(ids(f)).toEqual(['lab/100', 'lab/101']);
    f.put([vm(102), vm(103, 'stopped')]);
    f.commit();
    expect(ids(f)).toEqual(['lab/100', 'lab/101', 'lab/102', 'lab/103']);
    expect(f.list[0]).toBe(first[0]);
    expect(counts(f)).toEqual({ running: 3, stopped: 1 });
    // A page that arrives before one it follows: sorted in.
    f.put([vm(90), vm(91)]);
    f.commit();
    expect(ids(f)).toEqual(['lab/90', 'lab/91', 'lab/100', 'lab/101', 'lab/102', 'lab/103']);
    expect(f.commit()).toBe(false);
  });

  it('fleet index - a state event replaces the row in place; the guests stay where they are', () => {
    const f = new FleetIndex();
    f.put([vm(100), vm(101)]);
    f.commit();
    const version = f.membershipVersion;
    expect(f.setState('lab/101', 'stopped')).toBe(true);
    f.commit();
    expect(f.list[1]).toMatchObject({ vmid: 101, state: 'stopped' });
    expect(f.membershipVersion).toBe(version);
    expect(counts(f)).toEqual({ running: 1, stopped: 1 });
    expect(f.setState('lab/999', 'running')).toBe(false);
  });

  it('fleet index - a destroyed guest leaves the list and the counts at once', () => {
    const f = new FleetIndex();
    f.put([vm(100), vm(115), vm(120, 'stopped')]);
    f.commit();
    f.setState('lab/115', 'destroying');
    f.setState('lab/115', 'destroyed');
    f.commit();
    expect(ids(f)).toEqual(['lab/100', 'lab/120']);
    expect(f.vms.has('lab/115')).toBe(false);
    expect(counts(f)).toEqual({ running: 1, stopped: 1 });
  });

  it('fleet index - a page read before an event keeps the event: its state stands, a destroyed guest stays gone', () => {
    const f = new FleetIndex();
    f.put([vm(100), vm(101), vm(115)]);
    f.commit();
    const since = f.mark();
    f.setState('lab/101', 'stopped');
    f.setState('lab/115', 'destroyed');
    // The reload's page was read before those events.
    f.put([vm(100), vm(101, 'running'), vm(115, 'running')], since);
    f.retain(new Set(['lab/100', 'lab/101', 'lab/115']), since);
    f.commit();
    expect(ids(f)).toEqual(['lab/100', 'lab/101']);
    expect(f.vms.get('lab/101')?.state).toBe('stopped');
  });

  it('fleet index - a reload drops the guests it did not list, not one an event brought in meanwhile', () => {
    const f = new FleetIndex();
    f.put([vm(100), vm(101), vm(102)]);
    f.commit();
    const since = f.mark();
    f.putFromEvent(vm(130, 'running'));
    f.put([vm(100), vm(102)], since);
    f.retain(new Set(['lab/100', 'lab/102']), since);
    f.commit();
    expect(ids(f)).toEqual(['lab/100', 'lab/102', 'lab/130']);
    // A later reload that does not list it drops it.
    const later = f.mark();
    f.put([vm(100), vm(102)], later);
    f.retain(new Set(['lab/100', 'lab/102']), later);
    f.commit();
    expect(ids(f)).toEqual(['lab/100', 'lab/102']);
  });

  it('fleet index - a VMID given out again after a destroy is listed by the next reload', () => {
    const f = new FleetIndex();
    f.put([vm(100), vm(115)]);
    f.commit();
    f.setState('lab/115', 'destroyed');
    f.commit();
    const since = f.mark();
    f.put([vm(100), vm(115, 'stopped')], since);
    f.commit();
    expect(ids(f)).toEqual(['lab/100', 'lab/115']);
    expect(f.vms.get('lab/115')?.state).toBe('stopped');
  });
});
