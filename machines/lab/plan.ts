// Desired lab (ResolvedLab) against the lab as applied (LabActual): the items to create, change, replace, start and
// remove. Applying the same file again plans nothing; an edited file plans only the difference. A member is known by
// its VM entry and position (`web` #2), so raising a count from 1 renames `web` to `web-1` instead of replacing it.
import { formatIp, parseIp } from './ip';
import type { LabIssue } from './issues';
import type {
  ActualMember,
  ActualVnet,
  LabActual,
  MemberConfig,
  MemberNic,
  ResolvedLab,
  ResolvedMember,
} from './model';
import {
  changesText,
  type FieldChange,
  type LabPlan,
  type LabPlanItem,
  memberText,
  nicText,
  type PlannedZone,
  subnetText,
  zoneText,
} from './plan-items';
import type { LabSubnet, LabZone } from './spec';
import { formatMiB } from './units';

export function planLab(desired: ResolvedLab, actual?: LabActual): LabPlan {
  const { spec } = desired;
  const issues: LabIssue[] = [];
  const head: LabPlanItem[] = [];
  if (actual?.pool === undefined) {
    head.push({ kind: 'pool', op: 'create', pool: spec.pool, description: `create pool '${spec.pool}'` });
  } else if (actual.pool !== spec.pool) {
    issues.push({ path: 'pool', message: `the lab's pool is '${actual.pool}': a lab's pool cannot be renamed` });
  }
  const net = planNetworks(desired, actual, issues);
  const members = planMembers(desired, actual);
  const items = [...head, ...net.create, ...members.removals, ...members.byWave, ...net.remove];
  return { lab: spec.name, cluster: spec.cluster, items, issues };
}

/** Everything of an applied lab, removed: members (last created first), then its networks and its pool. */
export function planDestroy(actual: LabActual): LabPlan {
  const items: LabPlanItem[] = [...actual.members].reverse().map(removeMember);
  if (actual.zone) {
    const zone = actual.zone.name;
    for (const v of actual.vnets) {
      for (const s of v.subnets) items.push(subnetItem('remove', zone, v.name, s));
      items.push(vnetItem('remove', zone, v));
    }
    items.push({
      kind: 'zone',
      op: 'remove',
      zone: plannedZone(actual.zone, actual.vnets),
      description: `remove SDN zone ${zoneText(actual.zone)}`,
    });
    items.push(sdnApply());
  }
  if (actual.pool) {
    items.push({ kind: 'pool', op: 'remove', pool: actual.pool, description: `remove pool '${actual.pool}'` });
  }
  return { lab: actual.name, cluster: actual.cluster, items, issues: [] };
}

const sdnApply = (): LabPlanItem => ({
  kind: 'sdn',
  op: 'apply',
  description: 'apply the SDN configuration cluster-wide (PUT /cluster/sdn)',
});

const plannedZone = (zone: LabZone, vnets: readonly { subnets: LabSubnet[] }[]): PlannedZone => ({
  name: zone.name,
  type: zone.type,
  ...(zone.bridge !== undefined ? { bridge: zone.bridge } : {}),
  dhcp: vnets.some((v) => v.subnets.some((s) => s.dhcp !== undefined)),
});

function vnetItem(op: 'create' | 'remove', zone: string, vnet: ActualVnet): LabPlanItem {
  const tag = vnet.tag !== undefined ? ` (VLAN ${vnet.tag})` : '';
  return { kind: 'vnet', op, zone, vnet, description: `${op} vnet '${vnet.name}'${tag} in zone '${zone}'` };
}

function subnetItem(op: 'create' | 'remove', zone: string, vnet: string, subnet: LabSubnet): LabPlanItem {
  const text = op === 'create' ? subnetText(subnet) : subnet.cidr;
  return { kind: 'subnet', op, zone, vnet, subnet, description: `${op} subnet ${text} on vnet '${vnet}'` };
}

function planNetworks(
  desired: ResolvedLab,
  actual: LabActual | undefined,
  issues: LabIssue[],
): { create: LabPlanItem[]; remove: LabPlanItem[] } {
  const create: LabPlanItem[] = [];
  const remove: LabPlanItem[] = [];
  const want = desired.spec.networks.zone;
  const have = actual?.zone;
  if (want && have && (want.name !== have.name || want.type !== have.type || want.bridge !== have.bridge)) {
    issues.push({
      path: 'networks.zone',
      message: `the lab's zone is ${zoneText(have)}: a zone cannot be renamed or change its type or bridge (destroy the lab first)`,
    });
    return { create, remove };
  }
  const wantVnets: ActualVnet[] = want
    ? desired.spec.networks.vnets.map((v) => ({ name: v.name, tag: v.tag, subnets: v.subnets }))
    : [];
  const haveVnets = have ? (actual?.vnets ?? []) : [];
  if (want) {
    const zone = plannedZone(want, wantVnets);
    if (!have) {
      create.push({ kind: 'zone', op: 'create', zone, description: `create SDN zone ${zoneText(want)}` });
    } else {
      const before = plannedZone(have, haveVnets);
      if (before.dhcp !== zone.dhcp) {
        const changes = [{ field: 'dhcp', from: before.dhcp ? 'dnsmasq' : 'off', to: zone.dhcp ? 'dnsmasq' : 'off' }];
        create.push({
          kind: 'zone',
          op: 'change',
          zone,
          changes,
          description: `change SDN zone '${want.name}': ${changesText(changes)}`,
        });
      }
    }
  }
  const zoneName = want?.name ?? have?.name ?? '';
  for (const v of wantVnets) {
    const old = haveVnets.find((h) => h.name === v.name);
    if (!old) {
      create.push(vnetItem('create', zoneName, v));
      for (const s of v.subnets) create.push(subnetItem('create', zoneName, v.name, s));
      continue;
    }
    if (old.tag !== v.tag) {
      const changes = [{ field: 'tag', from: String(old.tag ?? '(none)'), to: String(v.tag ?? '(none)') }];
      create.push({
        kind: 'vnet',
        op: 'change',
        zone: zoneName,
        vnet: v,
        changes,
        description: `change vnet '${v.name}': ${changesText(changes)}`,
      });
    }
    for (const s of v.subnets) {
      const was = old.subnets.find((o) => sameCidr(o.cidr, s.cidr));
      if (!was) {
        create.push(subnetItem('create', zoneName, v.name, s));
        continue;
      }
      const changes = subnetChanges(was, s);
      if (changes.length > 0) {
        create.push({
          kind: 'subnet',
          op: 'change',
          zone: zoneName,
          vnet: v.name,
          subnet: s,
          changes,
          description: `change subnet ${s.cidr} on vnet '${v.name}': ${changesText(changes)}`,
        });
      }
    }
    for (const s of old.subnets) {
      if (!v.subnets.some((n) => sameCidr(n.cidr, s.cidr))) remove.push(subnetItem('remove', zoneName, v.name, s));
    }
  }
  for (const old of haveVnets) {
    if (wantVnets.some((v) => v.name === old.name)) continue;
    for (const s of old.subnets) remove.push(subnetItem('remove', zoneName, old.name, s));
    remove.push(vnetItem('remove', zoneName, old));
  }
  if (have && !want) {
    remove.push({
      kind: 'zone',
      op: 'remove',
      zone: plannedZone(have, haveVnets),
      description: `remove SDN zone ${zoneText(have)}`,
    });
  }
  if (create.length > 0) create.push(sdnApply());
  if (remove.length > 0) remove.push(sdnApply());
  return { create, remove };
}

function sameCidr(a: string, b: string): boolean {
  const [ia, pa] = a.split('/');
  const [ib, pb] = b.split('/');
  const x = parseIp(ia ?? '');
  const y = parseIp(ib ?? '');
  return pa === pb && (x && y ? formatIp(x) === formatIp(y) : a === b);
}

function subnetChanges(was: LabSubnet, now: LabSubnet): FieldChange[] {
  const changes: FieldChange[] = [];
  if ((was.gateway ?? '') !== (now.gateway ?? ''))
    changes.push({ field: 'gateway', from: was.gateway ?? '(none)', to: now.gateway ?? '(none)' });
  const range = (s: LabSubnet) => (s.dhcp ? `${s.dhcp.start}–${s.dhcp.end}` : '(none)');
  if (range(was) !== range(now)) changes.push({ field: 'dhcp', from: range(was), to: range(now) });
  return changes;
}

function removeMember(a: ActualMember): LabPlanItem {
  const gone = a.status === 'missing';
  const description = gone
    ? `forget ${a.name} (VM ${a.vmid} is already gone)`
    : `remove ${a.name} (VM ${a.vmid} on ${a.node})`;
  return { kind: 'member', op: 'remove', name: a.name, vmid: a.vmid, node: a.node, gone, description };
}

function planMembers(
  desired: ResolvedLab,
  actual: LabActual | undefined,
): { removals: LabPlanItem[]; byWave: LabPlanItem[] } {
  const matched = new Set<ActualMember>();
  const byWave: { wave: number; index: number; item: LabPlanItem }[] = [];
  desired.members.forEach((m, index) => {
    const have = actual?.members.find((a) => a.vm === m.vm && a.ordinal === m.ordinal);
    if (have) matched.add(have);
    for (const item of memberItems(m, have)) byWave.push({ wave: m.wave, index, item });
  });
  const removals = (actual?.members ?? [])
    .filter((a) => !matched.has(a))
    .reverse()
    .map(removeMember);
  byWave.sort((a, b) => a.wave - b.wave || a.index - b.index);
  return { removals, byWave: byWave.map((x) => x.item) };
}

function memberItems(m: ResolvedMember, have: ActualMember | undefined): LabPlanItem[] {
  if (!have) return [{ kind: 'member', op: 'create', member: m, description: `create ${memberText(m)}` }];
  if (have.status === 'missing') {
    return [
      {
        kind: 'member',
        op: 'create',
        member: m,
        replaces: have.vmid,
        description: `recreate ${memberText(m)} (VM ${have.vmid} is gone)`,
      },
    ];
  }
  const where = `VM ${have.vmid} on ${have.node}`;
  const reasons = replaceReasons(m, have);
  if (reasons.length > 0) {
    return [
      {
        kind: 'member',
        op: 'replace',
        member: m,
        vmid: have.vmid,
        node: have.node,
        reasons,
        description: `replace ${m.name} (${where}): ${reasons.join('; ')}`,
      },
    ];
  }
  const items: LabPlanItem[] = [];
  const changes = configChanges(m, have);
  if (changes.length > 0) {
    const running = have.status === 'running' || have.status === 'paused';
    const restart = running && changes.some((c) => RESTART_FIELDS.test(c.field));
    items.push({
      kind: 'member',
      op: 'change',
      member: m,
      vmid: have.vmid,
      node: have.node,
      changes,
      restart,
      description: `change ${m.name} (${where}): ${changesText(changes)}${restart ? ' (restarts it)' : ''}`,
    });
  }
  if (have.status !== 'running') {
    const verb = have.status === 'paused' ? 'resume' : 'start';
    items.push({
      kind: 'member',
      op: 'start',
      member: m,
      vmid: have.vmid,
      node: have.node,
      from: have.status,
      description: `${verb} ${m.name} (${where}, ${have.status})`,
    });
  }
  return items;
}

/** Changes that take effect on a running guest only after a restart (no hotplug assumed; cloud-init reads at boot). */
const RESTART_FIELDS = /^(cores|memory|net\d+|cloudInit\..+)$/;

function replaceReasons(m: ResolvedMember, have: ActualMember): string[] {
  const reasons: string[] = [];
  if (have.type !== m.type) reasons.push(`it becomes a ${m.type === 'lxc' ? 'container' : 'VM'}`);
  if (have.template !== m.template.vmid) reasons.push(`template ${have.template} → ${m.template.vmid}`);
  if (have.clone !== m.clone) reasons.push(`${have.clone} clone → ${m.clone} clone`);
  const disk = have.config.disk;
  if (m.config.disk !== undefined && disk !== undefined && m.config.disk < disk) {
    reasons.push(`disk ${formatMiB(disk)} → ${formatMiB(m.config.disk)} (a disk cannot shrink)`);
  }
  return reasons;
}

const tagsText = (tags: readonly string[] | undefined): string =>
  tags && tags.length > 0 ? [...tags].sort().join(';') : '(none)';
const setText = (values: readonly string[] | undefined): string =>
  values === undefined ? '(none)' : [...new Set(values.map((v) => v.trim()))].sort().join(', ') || '(none)';

function normalizeNic(nic: MemberNic | undefined): string {
  if (!nic) return nicText(undefined);
  const norm = (text: string | undefined) => {
    if (text === undefined || text === 'dhcp') return text;
    const [ip, prefix] = text.split('/');
    const parsed = parseIp(ip ?? '');
    return parsed ? `${formatIp(parsed)}${prefix !== undefined ? `/${prefix}` : ''}` : text;
  };
  return nicText({ ...nic, address: norm(nic.address), gateway: norm(nic.gateway) });
}

function configChanges(m: ResolvedMember, have: ActualMember): FieldChange[] {
  const want: MemberConfig = m.config;
  const is: MemberConfig = have.config;
  const changes: FieldChange[] = [];
  if (have.name !== m.name) changes.push({ field: 'name', from: have.name, to: m.name });
  if (have.node !== m.node) changes.push({ field: 'node', from: have.node, to: m.node });
  if (want.cores !== undefined && want.cores !== is.cores) {
    changes.push({ field: 'cores', from: String(is.cores ?? '(unknown)'), to: String(want.cores) });
  }
  const mib = (v: number | undefined) => (v === undefined ? '(unknown)' : formatMiB(v));
  if (want.memory !== undefined && want.memory !== is.memory) {
    changes.push({ field: 'memory', from: mib(is.memory), to: mib(want.memory) });
  }
  if (want.disk !== undefined && want.disk !== is.disk)
    changes.push({ field: 'disk', from: mib(is.disk), to: mib(want.disk) });
  if (want.tags !== undefined && tagsText(want.tags) !== tagsText(is.tags)) {
    changes.push({ field: 'tags', from: tagsText(is.tags), to: tagsText(want.tags) });
  }
  if (want.nics !== undefined) {
    const count = Math.max(want.nics.length, is.nics?.length ?? 0);
    for (let i = 0; i < count; i++) {
      const [from, to] = [normalizeNic(is.nics?.[i]), normalizeNic(want.nics[i])];
      if (from !== to) changes.push({ field: `net${i}`, from, to });
    }
  }
  const ci = want.cloudInit;
  if (ci) {
    const now = is.cloudInit ?? {};
    const single = [
      ['user', ci.user, now.user],
      ['nameserver', ci.nameserver, now.nameserver],
      ['searchDomain', ci.searchDomain, now.searchDomain],
    ] as const;
    for (const [field, to, from] of single) {
      if (to !== undefined && to !== from) changes.push({ field: `cloudInit.${field}`, from: from ?? '(none)', to });
    }
    if (ci.sshKeys !== undefined && setText(ci.sshKeys) !== setText(now.sshKeys)) {
      changes.push({
        field: 'cloudInit.sshKeys',
        from: `${now.sshKeys?.length ?? 0} key(s)`,
        to: `${ci.sshKeys.length} key(s)${ci.sshKeys.length === (now.sshKeys?.length ?? 0) ? ', others' : ''}`,
      });
    }
  }
  return changes;
}
