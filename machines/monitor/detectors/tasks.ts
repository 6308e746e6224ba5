// Platform tasks: running longer than `taskMaxMs` (stuck), or ended with an error (failed). One condition per
// subject (the task's VM, or its node when it has no VM) and kind; the tasks behind it are listed in `data`.
import { plural } from '../../gate/describe';
import { condition, duration, subjectOf } from '../condition';
import type { Condition, ConditionKind, Detector, MonitoredTask } from '../types';

/** A stopped task succeeded when its exit status is OK or only warnings. */
export const taskSucceeded = (task: Pick<MonitoredTask, 'exitstatus'>): boolean =>
  task.exitstatus === undefined || task.exitstatus === 'OK' || task.exitstatus.startsWith('WARNINGS');

const taskSubject = (task: MonitoredTask): string =>
  task.vmid !== undefined ? subjectOf.vm(task.cluster, task.vmid) : subjectOf.host(task.cluster, task.node);

const subjectLabel = (task: MonitoredTask): string =>
  task.vmid !== undefined ? `VM ${task.cluster}/${task.vmid}` : `node ${task.cluster}/${task.node}`;

function group(tasks: readonly MonitoredTask[]): Map<string, MonitoredTask[]> {
  const by = new Map<string, MonitoredTask[]>();
  for (const task of tasks) by.set(taskSubject(task), [...(by.get(taskSubject(task)) ?? []), task]);
  return by;
}

export const detectTasks: Detector = ({ input }) => {
  const { now, thresholds } = input;
  const tasks = input.tasks ?? [];
  const conditions: Condition[] = [];
  const push = (kind: ConditionKind, found: MonitoredTask[], sentence: (first: MonitoredTask) => string) => {
    for (const [subject, list] of group(found)) {
      const first = list[0] as MonitoredTask;
      const more = list.length > 1 ? ` (and ${plural(list.length - 1, 'other task')})` : '';
      conditions.push(
        condition(kind, subject, 'warning', `${sentence(first)}${more}`, {
          tasks: list.map((t) => ({ upid: t.upid, type: t.type, node: t.node, exitstatus: t.exitstatus })),
        }),
      );
    }
  };

  const stuck = tasks.filter((t) => t.status === 'running' && now - t.startedAt >= thresholds.taskMaxMs);
  push(
    'task-stuck',
    stuck,
    (t) =>
      `${t.type} task on ${subjectLabel(t)} has been running for ${duration(now - t.startedAt)} ` +
      `(limit ${duration(thresholds.taskMaxMs)})`,
  );
  const failed = tasks.filter((t) => t.status === 'stopped' && !taskSucceeded(t));
  push('task-failed', failed, (t) => `${t.type} task on ${subjectLabel(t)} failed: ${t.exitstatus}`);
  return { conditions };
};
