// Hands approved requests to the execution loop (which runs them within the per-node limit), tells it when one
// finished, and gives a new or restarted loop every request that is approved, queued or executing.
import type { Actor } from 'xstate';
import type { executionLoopMachine, QueuedWork } from '../machines/loops/execution-loop.machine';
import type { RequestMachine } from '../machines/request.machine';
import type { RequestSpec } from '../machines/types';
import { vmKey } from '../machines/types';
import type { ActorSet } from './actor-set';
import type { SystemView } from './system-view';

export type ExecutionLoopActor = Actor<typeof executionLoopMachine>;

export interface ExecutionFeedDeps {
  view: SystemView;
  requests: ActorSet<RequestMachine>;
  /** The root's execution loop, when the root runs. */
  loop: () => ExecutionLoopActor | undefined;
}

export class ExecutionFeed {
  constructor(private readonly deps: ExecutionFeedDeps) {}

  /**
   * `cluster/node` a request runs on (the per-node limit's key). A bulk request makes no platform call itself (its
   * children do, each counted on its own node) and an undrain none at all: each has a key of its own.
   */
  private nodeOf(spec: RequestSpec): string {
    const { view } = this.deps;
    if (spec.target.selector !== undefined || spec.action === 'drain' || spec.action === 'undrain') {
      return `${spec.target.cluster}/@${spec.id}`;
    }
    if (spec.action === 'deploy') {
      const template = view.vms.get(vmKey(spec.target.cluster, Number(spec.params.template)));
      return `${spec.target.cluster}/${template?.node ?? String(spec.params.node)}`;
    }
    const vm = spec.target.vmid !== undefined ? view.vms.get(vmKey(spec.target.cluster, spec.target.vmid)) : undefined;
    return `${spec.target.cluster}/${vm?.node ?? '?'}`;
  }

  /** Queues an approved request on the execution loop. */
  enqueue(id: string, spec: RequestSpec): void {
    const loop = this.deps.loop();
    if (!loop) return;
    // QUEUED first: the loop may start the request at once, and EXECUTE is only accepted once it is queued.
    this.deps.requests.get(id)?.send({ type: 'QUEUED' });
    loop.send({ type: 'ENQUEUE', work: { requestId: id, node: this.nodeOf(spec) } });
  }

  /** A queued or executing request ended: its place on its node is free. */
  finished(id: string): void {
    this.deps.loop()?.send({ type: 'FINISHED', requestId: id });
  }

  /** Hands every approved, queued and executing request to a (new) execution loop, in one event. */
  feed(): void {
    const loop = this.deps.loop();
    if (!loop) return;
    const running: QueuedWork[] = [];
    const queued: QueuedWork[] = [];
    for (const [id, actor] of this.deps.requests.entries()) {
      const { value, context } = actor.getSnapshot();
      if (value === 'executing') running.push({ requestId: id, node: this.nodeOf(context.spec) });
      else if (value === 'queued') queued.push({ requestId: id, node: this.nodeOf(context.spec) });
      else if (value === 'approved') {
        // QUEUED first: the loop may start the request at once, and EXECUTE is only accepted once it is queued.
        this.deps.requests.get(id)?.send({ type: 'QUEUED' });
        queued.push({ requestId: id, node: this.nodeOf(context.spec) });
      }
    }
    loop.send({ type: 'RESUME', running, queued });
  }
}
