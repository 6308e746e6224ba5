// One guest (VM or container): its state (live), what Overseer knows of it (read again as soon as the guest's
// events arrive, one read at a time), the actions its state allows with the gate's answer, the state changes this
// page saw, its requests (GET /v1/requests?guest=), incidents and snapshots.
import { useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { SnapshotView } from '../api/types';
import { BackupFact } from '../components/backup-fact';
import { Badge, Empty, ErrorNote, Facts, Loading, When } from '../components/common';
import { MaintenanceNote } from '../components/maintenance-note';
import { RequestList } from '../components/request-list';
import { bytes, clock, duration, percent } from '../format';
import { useLoad, useTopics } from '../live/hooks';
import { store, vmKey } from '../live/store';
import { href, inspectHref } from '../router';
import { atLeast, useSession } from '../session';
import { Confirm, type SubmitState, useSubmit, VmActions } from './vm-actions';

/** States of a guest that is not up (no uptime). */
const NOT_UP: ReadonlySet<string> = new Set(['stopped', 'destroyed']);

/** Requests listed on the guest's page (the newest). */
const REQUESTS_SHOWN = 50;

export function VmView({ cluster, vmid }: { cluster: string; vmid: number }) {
  const key = vmKey(cluster, vmid);
  useTopics([`vm:${key}`, 'hosts']);
  // Platform status, uptime, the request under way…: read again when the guest's events arrive (its state
  // changed, a request about it moved), at once — one read in flight, the events meanwhile coalesced into one more.
  const loaded = useLoad((signal) => api.vm(cluster, vmid, signal), [key], { topics: [`vm:${key}`], throttleMs: 0 });
  const submitter = useSubmit({ cluster, vmid });
  const { principal } = useSession();
  const live = store.vms.get(key);
  const vm = loaded.data ?? live;
  // The live state; a destroyed guest is no longer listed, its last event says so.
  const state = live?.state ?? store.lastState(key) ?? loaded.data?.state ?? 'unknown';

  if (!vm) {
    return (
      <>
        <h1>
          Guest {cluster}/{vmid}
        </h1>
        {loaded.loading ? <Loading what="the guest" /> : <ErrorNote error={loaded.error ?? 'Not found.'} />}
      </>
    );
  }
  const kind = vm.type === 'lxc' ? 'Container' : 'VM';
  // The platform's uptime is read by the sync: a guest that stopped has none, whether or not a sync saw it yet.
  const uptime = NOT_UP.has(state) ? 0 : vm.uptime;
  return (
    <>
      <h1>
        {kind} {cluster}/{vmid} <span class="subtle">{vm.name}</span>
      </h1>
      <p class="lead">
        State{' '}
        <span data-testid="vm-state" data-state={state}>
          <Badge value={state} />
        </span>{' '}
        · <a href={inspectHref(`vm:${key}`)}>its statechart in the inspector</a>
      </p>
      <Facts
        items={[
          ['Node', vm.node],
          [
            'Platform status',
            <span key="status" data-testid="vm-status">
              {vm.status}
            </span>,
          ],
          ['Tags', vm.tags.length > 0 ? vm.tags.join(', ') : '—'],
          ['Production', vm.production ? 'yes' : 'no'],
          ['HA managed', vm.haManaged ? 'yes' : 'no'],
          ['Pool', vm.pool ?? '—'],
          ['Lock', vm.lock ?? '—'],
          ['vCPUs', `${vm.cpus} (load ${percent(vm.cpu)})`],
          ['Memory', `${bytes(vm.mem)} of ${bytes(vm.maxmem)}`],
          ['Disk', bytes(vm.maxdisk)],
          [
            'Uptime',
            <span key="uptime" data-testid="vm-uptime">
              {uptime > 0 ? duration(uptime) : '—'}
            </span>,
          ],
          [
            'Request under way',
            vm.activeRequest ? (
              <a href={href('requests', vm.activeRequest.id)}>
                {vm.activeRequest.action} {vm.activeRequest.id.slice(0, 8)}
              </a>
            ) : (
              '—'
            ),
          ],
          ['Newest backup', <BackupFact key="backup" vm={vm} />],
        ]}
      />
      <MaintenanceNote vm={vm} />
      {atLeast(principal.role, 'operator') ? <VmActions vm={vm} state={state} submitter={submitter} /> : null}
      <History vmKeyText={key} />
      <Requests cluster={cluster} vmid={vmid} />
      <Incidents guest={key} />
      <Snapshots cluster={cluster} vmid={vmid} production={vm.production} submitter={submitter} />
    </>
  );
}

function History({ vmKeyText }: { vmKeyText: string }) {
  const changes = store.history.get(vmKeyText) ?? [];
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">State changes seen</h2>
      {changes.length === 0 ? (
        <Empty>None since this page opened; they appear here as they happen.</Empty>
      ) : (
        <ol class="history" data-testid="vm-history" reversed>
          {[...changes].reverse().map((c, i) => (
            <li key={`${c.at}-${i}`}>
              <time dateTime={new Date(c.at).toISOString()}>{clock(c.at)}</time> <Badge value={c.from || 'none'} /> →{' '}
              <Badge value={c.to} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The requests about the guest (its own, and bulk requests that list it), newest first. */
function Requests({ cluster, vmid }: { cluster: string; vmid: number }) {
  const key = vmKey(cluster, vmid);
  const loaded = useLoad((signal) => api.requests({ guest: key, limit: REQUESTS_SHOWN }, signal), [key], {
    topics: [`vm:${key}`],
    throttleMs: 1500,
  });
  const page = loaded.data;
  return (
    <section aria-labelledby="vm-requests-h">
      <h2 id="vm-requests-h">Requests</h2>
      <ErrorNote error={loaded.error} />
      {page === undefined ? (
        <Loading what="requests" />
      ) : page.items.length === 0 ? (
        <Empty>No request about this guest.</Empty>
      ) : (
        <>
          <RequestList items={page.items} />
          {page.total > page.items.length ? (
            <p class="muted">
              The newest {page.items.length} of {page.total}.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}

function Incidents({ guest }: { guest: string }) {
  const loaded = useLoad((signal) => api.incidents({ guest, limit: 50 }, signal), [guest], {
    topics: [`vm:${guest}`],
    throttleMs: 2000,
  });
  const items = loaded.data?.items;
  return (
    <section aria-labelledby="vm-incidents-h">
      <h2 id="vm-incidents-h">Incidents</h2>
      <ErrorNote error={loaded.error} />
      {items === undefined ? (
        <Loading what="incidents" />
      ) : items.length === 0 ? (
        <Empty>No incident about this guest.</Empty>
      ) : (
        <ul class="plain">
          {items.map((i) => (
            <li key={i.id}>
              <Badge value={i.severity} /> <Badge value={i.state} /> <a href={href('incidents', i.id)}>{i.kind}</a> —{' '}
              {i.detail} (<When at={i.openedAt} />)
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Snapshots(props: { cluster: string; vmid: number; production: boolean; submitter: SubmitState }) {
  const key = vmKey(props.cluster, props.vmid);
  const { principal } = useSession();
  const [confirm, setConfirm] = useState<string>();
  const loaded = useLoad((signal) => api.snapshots(props.cluster, props.vmid, signal), [key], {
    topics: [`vm:${key}`],
    throttleMs: 3000,
  });
  const canAct = atLeast(principal.role, 'operator');
  const items: SnapshotView[] = loaded.data?.items ?? [];
  return (
    <section aria-labelledby="snapshots-h">
      <h2 id="snapshots-h">Snapshots</h2>
      <ErrorNote error={loaded.error} />
      {loaded.data === undefined && !loaded.error ? <Loading what="snapshots" /> : null}
      {loaded.data !== undefined && items.length === 0 ? <Empty>No snapshot.</Empty> : null}
      {items.length > 0 ? (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Taken</th>
              <th scope="col">Parent</th>
              <th scope="col">Description</th>
              {canAct ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.name} data-testid={`snapshot-${s.name}`}>
                <td>{s.name}</td>
                <td>{s.snaptime ? <When at={s.snaptime * 1000} /> : '—'}</td>
                <td>{s.parent ?? '—'}</td>
                <td>{s.description ?? ''}</td>
                {canAct ? (
                  <td>
                    <button
                      type="button"
                      data-testid={`action-rollback-${s.name}`}
                      disabled={props.submitter.busy}
                      onClick={() => setConfirm(s.name)}
                    >
                      roll back
                    </button>{' '}
                    <button
                      type="button"
                      data-testid={`action-delsnapshot-${s.name}`}
                      disabled={props.submitter.busy}
                      onClick={() => void props.submitter.submit('delsnapshot', { snapname: s.name })}
                    >
                      delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {confirm ? (
        <Confirm
          action="rollback"
          text={`Roll ${key} back to ${confirm}? Everything since that snapshot is lost.${props.production ? ' It is production: the rollback is forced and needs a second person’s approval.' : ''}`}
          onConfirm={() => {
            setConfirm(undefined);
            void props.submitter.submit('rollback', { snapname: confirm }, props.production);
            document.getElementById('actions-h')?.scrollIntoView({ block: 'start' });
          }}
          onCancel={() => setConfirm(undefined)}
        />
      ) : null}
    </section>
  );
}
