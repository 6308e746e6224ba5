// The scenario runner's lab commands (tests/scenarios/runner.ts), answered by the core's lab service
// (actors/lab-service.ts) as the named user; a lab file is read from the scenario's folder.
//   lab apply <file> [as <user>]         apply a lab file (a new lab, or an edit of the live one)
//   lab approve|deny|destroy <name> [as <user>]
//   lab snapshot|revert <name> <snapshot> [as <user>]
//   lab show <name>                      the lab's status, its members (vmid, node, phase) and its failure
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Overseer } from '../../actors/overseer';
import type { Requester } from '../../machines/types';
import type { LabView } from '../../protocol';

const memberLine = (m: LabView['members'][number]) =>
  `${m.name}${m.vmid !== undefined ? ` ${m.vmid}` : ''}${m.node ? ` ${m.node}` : ''} ${m.phase}`;

/** `lab <name> <status>: <reasons>` and, for show, its members and failure. */
export function labLines(view: LabView | null, detail: boolean): string[] {
  if (!view) return ['lab unknown'];
  const why = view.failure
    ? `${view.failure.step}${view.failure.member ? ` ${view.failure.member}` : ''}: ${view.failure.error}`
    : view.reasons.join('; ');
  const lines = [`lab ${view.name} ${view.status}${why ? `: ${why}` : ''}`];
  if (detail) {
    lines.push(`lab ${view.name} members: ${view.members.map(memberLine).join(', ') || 'none'}`);
    const created = view.created.map((c) => `${c.kind} ${c.id}`).join(', ');
    lines.push(`lab ${view.name} created: ${created || 'nothing'}`);
  }
  return lines;
}

/** Runs one lab command; returns the lines to log. */
export async function scenarioLab(
  overseer: Overseer,
  dir: string,
  [verb, a, b]: string[],
  as: Requester,
): Promise<string[]> {
  const labs = overseer.labService;
  switch (verb) {
    case 'apply': {
      const file = readFileSync(join(dir, a as string), 'utf8');
      return labLines(await labs.apply(file, a, as), false);
    }
    case 'approve':
      return labLines(await labs.approve({ name: a as string }, as), false);
    case 'deny':
      return labLines(await labs.deny({ name: a as string }, as), false);
    case 'destroy':
      return labLines(await labs.destroy({ name: a as string }, as), false);
    case 'snapshot':
      return labLines(await labs.snapshot({ name: a as string, snapshot: b as string }, as), false);
    case 'revert':
      return labLines(await labs.revert({ name: a as string, snapshot: b as string }, as), false);
    case 'show':
      return labLines(labs.get({ name: a as string }), true);
  }
  throw new Error(`unknown lab command: lab ${verb}`);
}
