// What the monitor reads of the runtime (the entity actors, the live view, how long a request has been in its
// status) and the one way it acts: submitting a request, which meets the gate like anyone's.
import type { HostMachine } from '../machines/host.machine';
import type { RequestMachine } from '../machines/request.machine';
import type { VmMachine } from '../machines/vm.machine';
import type { ActorSet } from './actor-set';
import type { Submission, SubmitResult } from './submission';
import type { SystemView } from './system-view';

export interface MonitorFleet {
  readonly vms: Pick<ActorSet<VmMachine>, 'keys' | 'keyArray' | 'peek' | 'size'>;
  readonly hosts: Pick<ActorSet<HostMachine>, 'entries'>;
  readonly requests: Pick<ActorSet<RequestMachine>, 'entries'>;
  readonly view: Pick<SystemView, 'vms' | 'hosts' | 'clusters' | 'maintenance'>;
  /** When a live request entered its current status. */
  statusSince(id: string): number | undefined;
  submit(submission: Submission): Promise<SubmitResult>;
}
