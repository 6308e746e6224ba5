// The guests table, virtualised: a real <table> (headers, row indexes for assistive technology) whose body holds
// only the rows in view plus a few either side, between two spacer rows that keep the scroll height. 10,000 guests
// cost the DOM about forty rows.
import { Component } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { VmView } from '../api/types';
import { Badge } from '../components/common';
import { bytes } from '../format';
import { href } from '../router';

export const ROW_HEIGHT = 34;
const OVERSCAN = 8;
const COLUMNS = 10;

interface RowProps {
  vm: VmView;
  index: number;
}

/** One guest's row; re-rendered only when its guest object (a new one per change) or its place changes. */
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.vm !== this.props.vm || next.index !== this.props.index;
  }

  override render() {
    return <RowCells vm={this.props.vm} index={this.props.index} />;
  }
}

function RowCells({ vm, index }: RowProps) {
  const link = href('vm', vm.cluster, vm.vmid);
  return (
    <tr data-testid={`vm-row-${vm.cluster}-${vm.vmid}`} data-state={vm.state} aria-rowindex={index + 2}>
      <td class="num">
        <a href={link}>{vm.vmid}</a>
      </td>
      <td class="name">
        <a href={link}>{vm.name}</a>
      </td>
      <td>{vm.type === 'lxc' ? 'CT' : 'VM'}</td>
      <td>{vm.cluster}</td>
      <td>{vm.node}</td>
      <td>
        <Badge value={vm.state} />
      </td>
      <td class="tags">{vm.tags.join(', ')}</td>
      <td>{vm.production ? <span class="prod">production</span> : ''}</td>
      <td class="num">{vm.cpus}</td>
      <td class="num">{bytes(vm.maxmem)}</td>
    </tr>
  );
}

export function FleetTable({ rows, total }: { rows: readonly VmView[]; total: number }) {
  const box = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const frame = useRef<number | undefined>(undefined);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Fewer rows than the scroll position reaches (a narrower filter): back to the top.
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollTop > rows.length * ROW_HEIGHT) {
      el.scrollTop = 0;
      setView((v) => ({ ...v, top: 0 }));
    }
  }, [rows.length]);

  const onScroll = () => {
    if (frame.current !== undefined) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = undefined;
      const el = box.current;
      if (el) setView({ top: el.scrollTop, height: el.clientHeight });
    });
  };

  const start = Math.max(0, Math.floor(view.top / ROW_HEIGHT) - OVERSCAN);
  const end = Math.min(rows.length, Math.ceil((view.top + view.height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(start, end);

  return (
    // Its row links make the scrolling region reachable by keyboard (the arrow keys then scroll it).
    <section class="table-scroll" ref={box} onScroll={onScroll} aria-label={`Guests: ${rows.length} of ${total}`}>
      <table class="fleet" data-testid="fleet-table" aria-rowcount={rows.length + 1} data-rows={rows.length}>
        <colgroup>
          <col class="c-vmid" />
          <col class="c-name" />
          <col class="c-type" />
          <col class="c-cluster" />
          <col class="c-node" />
          <col class="c-state" />
          <col class="c-tags" />
          <col class="c-prod" />
          <col class="c-cpu" />
          <col class="c-mem" />
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col">VMID</th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Cluster</th>
            <th scope="col">Node</th>
            <th scope="col">State</th>
            <th scope="col">Tags</th>
            <th scope="col">Production</th>
            <th scope="col">vCPUs</th>
            <th scope="col">Memory</th>
          </tr>
        </thead>
        <tbody>
          {start > 0 ? <Spacer height={start * ROW_HEIGHT} /> : null}
          {visible.map((vm, i) => (
            <Row key={`${vm.cluster}/${vm.vmid}`} vm={vm} index={start + i} />
          ))}
          {end < rows.length ? <Spacer height={(rows.length - end) * ROW_HEIGHT} /> : null}
        </tbody>
      </table>
      {rows.length === 0 ? <p class="muted pad">No guest matches these filters.</p> : null}
    </section>
  );
}

function Spacer({ height }: { height: number }) {
  return (
    <tr class="spacer">
      <td colSpan={COLUMNS} style={{ height: `${height}px` }} />
    </tr>
  );
}
