// Quiet hours per channel (a backup window, the night): below the window's `pass` severity notifications are held
// back — counted, never sent late — and when the window ends the channel sends one summary of what it held back.
// Windows are local times in a time zone, on given days, and may cross midnight.
import { afterEach, describe, expect, test } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { createMemoryBus } from '../../adapters/nats';
import type { Notification, NotifyConfigInput } from '../../adapters/notify';
import { createNotifier, NotifyConfigError, quietSpellAt, quietWindowSchema } from '../../adapters/notify';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** Wednesday 2025-01-15, at hh:mm UTC. */
const wed = (hh: number, mm = 0) => Date.UTC(2025, 0, 15, hh, mm);

function setup(quietHours: unknown[], start: number) {
  const clock = new SimulatedClock(start);
  const log = createMemoryLog(clock);
  const bus = createMemoryBus();
  const got: Notification[] = [];
  bus.subscribe('overseer.notify', (_, payload) => got.push(payload as Notification));
  const config = {
    channels: [{ type: 'nats', subject: 'overseer.notify', quietHours }],
    dedupeWindowSeconds: 0,
  } as NotifyConfigInput;
  const notifier = createNotifier({ clock, log, bus }, config);
  open.push(notifier, bus);
  const send = async (severity: Notification['severity'], title = `a ${severity} notice`) => {
    notifier.notify({ key: `${title}:${clock.now()}`, severity, title, text: title, at: clock.now() });
    await notifier.flush();
  };
  return { clock, log, notifier, got, send };
}

describe('quiet hours', () => {
  test('quiet hours - below critical is held back at night, critical passes, one summary comes at the end', async () => {
    const { clock, notifier, got, send } = setup([{ from: '22:00', to: '06:00' }], wed(23));
    await send('warning');
    await send('info');
    await send('warning');
    await send('critical', 'VM 101 stopped');
    expect(got.map((n) => n.title)).toEqual(['VM 101 stopped']);
    expect(notifier.stats().channels.nats).toMatchObject({ sent: 1, quieted: 3 });

    await clock.advanceAsync(wed(6) + 86_400_000 - wed(23) - 1);
    await notifier.flush();
    expect(got).toHaveLength(1);
    await clock.advanceAsync(1);
    await notifier.flush();
    expect(got).toHaveLength(2);
    expect(got[1]).toMatchObject({
      key: `quiet-hours:nats:${wed(23)}`,
      severity: 'warning',
      title: 'quiet hours ended: 3 notifications held back',
      at: wed(6) + 86_400_000,
      data: { heldBack: { warning: 2, info: 1 }, since: wed(23), until: wed(6) + 86_400_000 },
    });
    expect(got[1]?.text).toMatch(
      /^3 notifications were held back by quiet hours since 2025-01-15T23:00:00.000Z \(2 warning, 1 info\)/,
    );

    // After the window, a warning is sent at once; the held ones are never sent late.
    await send('warning', 'disk 90%');
    expect(got.map((n) => n.title)).toEqual([
      'VM 101 stopped',
      'quiet hours ended: 3 notifications held back',
      'disk 90%',
    ]);
  });

  test('quiet hours - pass sets the lowest severity still sent; outside the window everything passes', async () => {
    const { got, send, notifier } = setup([{ from: '01:00', to: '03:00', pass: 'warning' }], wed(2));
    await send('info');
    await send('warning');
    expect(got.map((n) => n.severity)).toEqual(['warning']);
    expect(notifier.stats().channels.nats?.quieted).toBe(1);
    const later = setup([{ from: '01:00', to: '03:00', pass: 'warning' }], wed(3));
    await later.send('info');
    expect(later.got).toHaveLength(1);
  });

  test('quiet hours - days are the day a window starts; a window crossing midnight holds into the next day', () => {
    const [weekend] = [quietWindowSchema.parse({ days: ['sat', 'sun'], from: '00:00', to: '23:59' })];
    expect(quietSpellAt([weekend!], Date.UTC(2025, 0, 18, 12))).toBeDefined(); // Saturday
    expect(quietSpellAt([weekend!], wed(12))).toBeUndefined();
    const friday = quietWindowSchema.parse({ days: ['fri'], from: '23:00', to: '02:00' });
    expect(quietSpellAt([friday], Date.UTC(2025, 0, 18, 1, 30))).toEqual({
      pass: 'critical',
      endsAt: Date.UTC(2025, 0, 18, 2),
    }); // Saturday 01:30, in Friday's window
    expect(quietSpellAt([friday], Date.UTC(2025, 0, 19, 1, 30))).toBeUndefined(); // Sunday 01:30
    expect(quietSpellAt([friday], Date.UTC(2025, 0, 17, 23, 59, 30, 250))?.endsAt).toBe(Date.UTC(2025, 0, 18, 2));
  });

  test('quiet hours - times are local to the time zone', () => {
    const berlin = quietWindowSchema.parse({ from: '22:00', to: '23:00', timezone: 'Europe/Berlin' });
    expect(quietSpellAt([berlin], wed(21, 30))).toEqual({ pass: 'critical', endsAt: wed(22) }); // 22:30 in Berlin
    expect(quietSpellAt([berlin], wed(22, 30))).toBeUndefined();
  });

  test('quiet hours - bad windows stop start-up naming the key', () => {
    const make = (quietHours: unknown[]) => () =>
      createNotifier({ clock: new SimulatedClock(0), log: createMemoryLog(new SimulatedClock(0)) }, {
        channels: [{ type: 'slack', url: 'https://hooks.example.org/x', quietHours }],
      } as NotifyConfigInput);
    expect(make([{ from: '25:00', to: '06:00' }])).toThrow(NotifyConfigError);
    expect(make([{ from: '25:00', to: '06:00' }])).toThrow(/'channels\.0\.quietHours\.0\.from' must be a time 'HH:MM'/);
    expect(make([{ from: '22:00', to: '06:00', timezone: 'Mars/Olympus' }])).toThrow(/timezone' must be an IANA/);
    expect(make([{ from: '22:00', to: '22:00' }])).toThrow(/'from' and 'to' must differ/);
    expect(make([{ from: '22:00', to: '06:00', days: ['someday'] }])).toThrow(/days\.0/);
  });
});
