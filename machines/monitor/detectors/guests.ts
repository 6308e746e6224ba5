// SSH checks of guests and hosts: unreachable `unreachableAfter` times in a row, a changed host key, and disk,
// load and systemd units of the last check that reached them. A guest not checked this cycle keeps what its last
// check showed; a guest whose VM or node is gone is forgotten.
import { percent, plural, vmLabel } from '../../gate/describe';
import { hostKey, vmKey } from '../../types';
import { condition, conditionKey, parseSubject, usageSeverity } from '../condition';
import type { Condition, Detector, DetectorScope, GuestMemory, MonitorMemory, SshResult } from '../types';

/** The label and CPU count of a checked actor, or undefined when it is not in the snapshot. */
function describeGuest(id: string, input: DetectorScope['input']): { label: string; cpus: number } | undefined {
  const subject = parseSubject(id);
  if (subject?.kind === 'vm') {
    const vm = input.vms.get(vmKey(subject.cluster, subject.vmid));
    return vm && { label: vmLabel(vm.info), cpus: vm.info.cpus };
  }
  if (subject?.kind === 'host') {
    const host = input.hosts.get(hostKey(subject.cluster, subject.node));
    return host && { label: `Node ${subject.cluster}/${subject.node}`, cpus: host.info.maxcpu };
  }
  return undefined;
}

function applyResult(earlier: GuestMemory | undefined, result: SshResult): GuestMemory {
  if (result.hostKeyChanged) {
    return { failures: 0, hostKeyChanged: true, measured: earlier?.measured };
  }
  if (!result.reachable) {
    return {
      failures: (earlier?.failures ?? 0) + 1,
      hostKeyChanged: false,
      error: result.error,
      measured: earlier?.measured,
    };
  }
  return { failures: 0, hostKeyChanged: false, measured: result };
}

export const detectGuests: Detector = ({ input, before, wasPresent }) => {
  const { thresholds } = input;
  const guests: MonitorMemory['guests'] = {};
  for (const [id, memory] of Object.entries(before.guests)) if (describeGuest(id, input)) guests[id] = memory;
  for (const result of input.sshResults ?? []) {
    if (describeGuest(result.id, input)) guests[result.id] = applyResult(guests[result.id], result);
  }

  const conditions: Condition[] = [];
  for (const [id, memory] of Object.entries(guests)) {
    const guest = describeGuest(id, input);
    if (!guest) continue;
    const { label } = guest;
    if (memory.failures >= thresholds.unreachableAfter) {
      const why = memory.error ? `: ${memory.error}` : '';
      conditions.push(
        condition(
          'guest-unreachable',
          id,
          'warning',
          `${label} has not answered over SSH ${plural(memory.failures, 'time')} in a row${why}`,
          { consecutive: memory.failures, error: memory.error },
        ),
      );
    }
    if (memory.hostKeyChanged) {
      conditions.push(
        condition(
          'guest-host-key-changed',
          id,
          'critical',
          `${label} presented an SSH host key other than the pinned one: not trusted until a person checks it`,
        ),
      );
    }
    const measured = memory.measured;
    if (!measured) continue;
    if (measured.disk !== undefined) {
      const severity = usageSeverity(
        measured.disk,
        thresholds.guestDisk,
        wasPresent(conditionKey('guest-disk-high', id)),
        thresholds.hysteresis,
      );
      if (severity) {
        conditions.push(
          condition(
            'guest-disk-high',
            id,
            severity,
            `${label} has a file system ${percent(measured.disk)} full (warning above ${percent(thresholds.guestDisk.warning)})`,
            { used: measured.disk },
          ),
        );
      }
    }
    if (measured.load !== undefined && guest.cpus > 0) {
      const perCpu = measured.load / guest.cpus;
      const severity = usageSeverity(
        perCpu,
        thresholds.guestLoadPerCpu,
        wasPresent(conditionKey('guest-load-high', id)),
        thresholds.hysteresis,
      );
      if (severity) {
        conditions.push(
          condition(
            'guest-load-high',
            id,
            severity,
            `${label} has a load of ${measured.load.toFixed(2)} on ${plural(guest.cpus, 'CPU')}`,
            { load: measured.load, perCpu },
          ),
        );
      }
    }
    const failed = (measured.units ?? []).filter((u) => u.active === 'failed').map((u) => u.name);
    if (failed.length > 0) {
      conditions.push(
        condition('guest-unit-failed', id, 'warning', `${label} has failed units: ${failed.join(', ')}`, {
          units: failed,
        }),
      );
    }
  }
  return { conditions, memory: { guests } };
};
