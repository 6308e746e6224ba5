// A table of requests (id, action, target, status, who asked, when), and a request's target as text or a link.
import type { RequestView } from '../api/types';
import { href } from '../router';
import { Badge, When } from './common';

export function targetText(r: Pick<RequestView, 'target'>): string {
  const t = r.target;
  if (t.vmid !== undefined) return `${t.cluster}/${t.vmid}`;
  if (t.selector !== undefined) return `${t.cluster} ${t.selector}`;
  if (t.node !== undefined) return `node ${t.cluster}/${t.node}`;
  return t.cluster;
}

export function TargetLink({ request }: { request: Pick<RequestView, 'target'> }) {
  const t = request.target;
  if (t.vmid !== undefined && t.vmid > 0) return <a href={href('vm', t.cluster, t.vmid)}>{targetText(request)}</a>;
  return <span>{targetText(request)}</span>;
}

export function RequestList({ items }: { items: readonly RequestView[] }) {
  return (
    <table class="list">
      <thead>
        <tr>
          <th scope="col">Request</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Status</th>
          <th scope="col">Asked by</th>
          <th scope="col">Submitted</th>
        </tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id} data-testid={`request-row-${r.id}`} data-status={r.status}>
            <td>
              <a href={href('requests', r.id)}>{r.id.slice(0, 8)}</a>
            </td>
            <td>{r.action}</td>
            <td>
              <TargetLink request={r} />
            </td>
            <td>
              <Badge value={r.status} />
            </td>
            <td>{r.requester.name ?? r.requester.id}</td>
            <td>
              <When at={r.submittedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
