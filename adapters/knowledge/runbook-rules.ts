// Whether a runbook's gate rule applies to a request: its `actions` and every `when` clause must match the
// request and (for VM facts) the target VM as last seen. A clause about the VM never matches without one.
import type { RequestSpec, VmInfo } from '../../machines/types';
import type { Runbook, RunbookMatcher, RunbookRule } from './runbook';

/** `*` is a wildcard; otherwise an exact, case-insensitive comparison. */
function valueMatches(pattern: string, actual: string): boolean {
  if (!pattern.includes('*')) return pattern.toLowerCase() === actual.toLowerCase();
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i');
  return re.test(actual);
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The facts a clause compares: undefined when unknown (no VM, no lock). */
function facts(m: RunbookMatcher, spec: RequestSpec, vm: VmInfo | undefined): string[] | undefined {
  switch (m.key) {
    case 'action':
      return [spec.action];
    case 'cluster':
      return [spec.target.cluster];
    case 'vmid':
      return spec.target.vmid === undefined ? undefined : [String(spec.target.vmid)];
    case 'force':
      return [String(spec.force === true)];
    case 'origin':
      return [spec.origin ?? 'human'];
    case 'node': {
      const node = vm?.node ?? (typeof spec.params.node === 'string' ? spec.params.node : undefined);
      return node === undefined ? undefined : [node];
    }
    case 'tags':
      return vm?.tags;
    case 'lock':
      return vm?.lock ? [vm.lock] : undefined;
    case 'status':
      return vm ? [vm.status] : undefined;
    case 'name':
      return vm ? [vm.name] : undefined;
    case 'ha':
      return vm ? [String(vm.haManaged)] : undefined;
    case 'template':
      return vm ? [String(vm.template)] : undefined;
  }
}

/** One clause: some fact equals some value (or, negated, none does). An unknown fact matches only a negation. */
export function matcherHolds(m: RunbookMatcher, spec: RequestSpec, vm: VmInfo | undefined): boolean {
  const known = facts(m, spec, vm);
  const hit = known?.some((fact) => m.values.some((v) => valueMatches(v, fact)));
  return m.negate ? !hit : hit === true;
}

/** Does the runbook's rule apply to this request? False for a runbook without a rule. */
export function ruleApplies(runbook: Runbook, spec: RequestSpec, vm: VmInfo | undefined): boolean {
  if (!runbook.rule) return false;
  if (runbook.actions.length > 0 && !runbook.actions.includes(spec.action)) return false;
  return runbook.when.every((m) => matcherHolds(m, spec, vm));
}

const SEVERITY: Record<RunbookRule, number> = { deny: 2, approval: 1, warn: 0 };

/** The runbooks whose rule applies, strictest first (deny, approval, warn), then by id. */
export function matchingRules(
  runbooks: Iterable<Runbook>,
  spec: RequestSpec,
  vm: VmInfo | undefined,
): (Runbook & { rule: RunbookRule })[] {
  const hits: (Runbook & { rule: RunbookRule })[] = [];
  for (const rb of runbooks) if (ruleApplies(rb, spec, vm)) hits.push(rb as Runbook & { rule: RunbookRule });
  return hits.sort((a, b) => SEVERITY[b.rule] - SEVERITY[a.rule] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
