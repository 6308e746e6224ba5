// Health: the core's checks (GET /v1/health: SQLite, NATS, clusters, loops), the root actor and its loops with
// their heartbeats (GET /v1/status and the health loop's published summary), the clusters, open incidents, and this
// page's own event stream.
import { api } from '../api/endpoints';
import { Badge, ErrorNote, Facts, Loading } from '../components/common';
import { ago, dateTime, duration } from '../format';
import { useLoad, useTopics } from '../live/hooks';
import { store } from '../live/store';
import { inspectHref } from '../router';

export function HealthView() {
  useTopics(['conn', 'loops']);
  const loaded = useLoad(
    async (signal) => {
      const [health, status] = await Promise.all([api.health(signal), api.status(signal)]);
      return { health, status };
    },
    [],
    { topics: ['loops'], throttleMs: 2000, pollMs: 5000 },
  );
  const data = loaded.data;
  const beats = new Map((store.summary?.loops ?? []).map((l) => [l.loop, l]));
  return (
    <>
      <h1>Health</h1>
      <ErrorNote error={loaded.error} />
      {!data ? (
        <Loading what="health" />
      ) : (
        <>
          <p class="lead" data-testid="health-ok" data-ok={String(data.health.ok)}>
            Overall{' '}
            <Badge value={data.health.ok ? 'pass' : 'failed'} label={data.health.ok ? 'healthy' : 'unhealthy'} />
          </p>
          <section aria-labelledby="checks-h">
            <h2 id="checks-h">Checks</h2>
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  <th scope="col">Result</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {data.health.checks.map((c) => (
                  <tr key={c.name} data-testid={`health-check-${c.name}`} data-ok={String(c.ok)}>
                    <th scope="row">{c.name}</th>
                    <td>
                      <Badge value={c.ok ? 'pass' : 'failed'} label={c.ok ? 'ok' : 'failing'} />
                    </td>
                    <td>{c.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="root-h">
            <h2 id="root-h">The root actor and its loops</h2>
            <Facts
              items={[
                [
                  'Root',
                  <a key="r" href={inspectHref('overseer')}>
                    {data.status.state}
                  </a>,
                ],
                [
                  'Started',
                  `${dateTime(data.status.startedAt)} (up ${duration((data.status.now - data.status.startedAt) / 1000)})`,
                ],
                ['Escalated', data.status.escalated.length > 0 ? data.status.escalated.join(', ') : 'none'],
                [
                  'Open incidents',
                  data.status.incidents
                    ? `${data.status.incidents.open}${Object.entries(data.status.incidents.bySeverity)
                        .map(([s, n]) => ` · ${n} ${s}`)
                        .join('')}`
                    : '—',
                ],
              ]}
            />
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Loop</th>
                  <th scope="col">State</th>
                  <th scope="col">Cycles</th>
                  <th scope="col">Failures</th>
                  <th scope="col">Heartbeat</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(data.status.loops).map(([name, loop]) => {
                  const beat = beats.get(name);
                  return (
                    <tr key={name} data-testid={`loop-${name}`} data-state={loop.state}>
                      <th scope="row">
                        <a href={inspectHref(`loop:${name}`)}>{name}</a>
                      </th>
                      <td>
                        <Badge value={loop.state} />
                      </td>
                      <td class="num">{loop.cycles}</td>
                      <td class="num">{loop.failures}</td>
                      <td>
                        {beat ? (
                          <>
                            <Badge value={beat.ok ? 'pass' : 'failed'} label={beat.ok ? 'ok' : 'late'} />{' '}
                            {ago(beat.lastBeatAt)}
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>{loop.lastError ?? '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="hclusters-h">
            <h2 id="hclusters-h">Clusters</h2>
            <ul class="plain">
              {data.status.clusters.map((c) => (
                <li key={c.cluster}>
                  {c.cluster}:{' '}
                  <Badge value={c.reachable ? 'online' : 'offline'} label={c.reachable ? 'reachable' : 'unreachable'} />{' '}
                  <Badge value={c.quorate ? 'online' : 'offline'} label={c.quorate ? 'quorate' : 'no quorum'} />
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
      <section aria-labelledby="page-h">
        <h2 id="page-h">This page</h2>
        <Facts
          items={[
            [
              'Event stream',
              <Badge key="c" value={store.conn === 'live' ? 'online' : 'degraded'} label={store.conn} />,
            ],
            ['Events received', String(store.eventsReceived)],
            ['Last event', store.lastEventAt ? ago(store.lastEventAt) : 'none yet'],
            ['Last reload', store.lastResync ?? 'none needed'],
          ]}
        />
      </section>
    </>
  );
}
