// Lab test helpers: an inventory of the demo cluster (adapters/pve-sim/seeds.ts) as plain data, parsing that fails
// loudly, and the actual state of a lab applied exactly as planned.
import { demoSeed } from '../../adapters/pve-sim';
import type { ActualMember, LabActual, LabInventory, LabInventoryHost, LabSpec, ResolvedLab } from '../../machines/lab';
import { formatIssue, validateLab } from '../../machines/lab';
import { checkLabFile, validateLabFile } from '../../protocol/lab-file-parse';

export const GiB = 1024 ** 3;

/** The demo cluster's guests and nodes; each node has `usedGiB` of its 64 GiB in use. */
export function demoInventory(options: { usedGiB?: number; hosts?: LabInventoryHost[] } = {}): LabInventory {
  const seed = demoSeed();
  return {
    cluster: seed.cluster,
    guests: seed.vms.map((vm) => ({
      vmid: vm.vmid,
      name: vm.name,
      node: vm.node,
      type: vm.type ?? 'qemu',
      template: vm.template ?? false,
      maxmem: vm.maxmem,
      maxdisk: vm.maxdisk,
      pool: vm.pool,
      status: vm.status === 'paused' ? 'paused' : vm.status === 'running' ? 'running' : 'stopped',
    })),
    hosts:
      options.hosts ??
      seed.nodes.map((n) => ({
        node: n.name,
        status: 'online' as const,
        maxmem: n.maxmem,
        mem: (options.usedGiB ?? 8) * GiB,
      })),
    sdn: { zones: [], vnets: [], subnets: [] },
    labs: [],
  };
}

/** The spec of a lab file that must parse and pass its own rules. */
export function specOf(yaml: string): LabSpec {
  const { spec, issues } = checkLabFile(yaml);
  if (!spec || issues.length > 0) throw new Error(`unexpected issues:\n${issues.map(formatIssue).join('\n')}`);
  return spec;
}

/** The resolved lab of a file that must validate against `inventory`. */
export function resolvedOf(yaml: string, inventory: LabInventory = demoInventory(), actual?: LabActual): ResolvedLab {
  const result = validateLab(specOf(yaml), inventory, actual);
  if (!result.resolved) throw new Error(`unexpected issues:\n${result.issues.map(formatIssue).join('\n')}`);
  return result.resolved;
}

/** The issues (as `path: message` lines) of a file against an inventory: schema, own rules and cluster rules. */
export function problemsOf(yaml: string, inventory: LabInventory = demoInventory(), actual?: LabActual): string[] {
  return validateLabFile(yaml, inventory, actual).issues.map(formatIssue);
}

/** The lab as it stands once `desired` was applied as planned: VMIDs from `firstVmid`, every member running. */
export function appliedAs(desired: ResolvedLab, firstVmid = 500): LabActual {
  const { spec } = desired;
  const members: ActualMember[] = desired.members.map((m, i) => ({
    name: m.name,
    vm: m.vm,
    ordinal: m.ordinal,
    vmid: firstVmid + i,
    node: m.node,
    type: m.type,
    status: 'running',
    template: m.template.vmid,
    clone: m.clone,
    config: {
      cores: m.config.cores ?? 2,
      memory: m.memory,
      disk: m.config.disk ?? m.template.disk,
      tags: m.config.tags ?? ['template'],
      nics: m.config.nics ?? [{ bridge: 'vmbr0' }],
      ...(m.config.cloudInit ? { cloudInit: m.config.cloudInit } : {}),
    },
  }));
  return {
    name: spec.name,
    cluster: spec.cluster,
    pool: spec.pool,
    zone: spec.networks.zone,
    vnets: spec.networks.zone ? spec.networks.vnets.map((v) => ({ name: v.name, tag: v.tag, subnets: v.subnets })) : [],
    members,
  };
}

/** A lab file: a header, networks and VMs. */
export const THREE_TIER = `
name: tt
cluster: lab
networks:
  zone: { name: tt, type: vlan, bridge: vmbr0 }
  vnets:
    - name: front
      tag: 101
      subnets: [{ cidr: 10.42.1.0/24, gateway: 10.42.1.1 }]
    - name: back
      tag: 102
      subnets: [{ cidr: 10.42.2.0/24, gateway: 10.42.2.1 }]
vms:
  - name: router
    template: debian-12-template
    memory: 1G
    networks:
      - { bridge: vmbr0, address: dhcp }
      - { vnet: front, address: 10.42.1.1 }
      - { vnet: back, address: 10.42.2.1 }
  - name: db
    template: 9000
    memory: 4G
    disk: 40G
    networks: [{ vnet: back, address: 10.42.2.10, gateway: 10.42.2.1 }]
    dependsOn: [router]
  - name: web
    template: debian-12-template
    count: 3
    cores: 1
    memory: 2G
    networks: [{ vnet: front, address: 10.42.1.11, gateway: 10.42.1.1 }]
    dependsOn: [db]
`;

/** A lab file good on the demo cluster: a router, a DC behind it and four clients, on two VLANs of its zone. */
export const GOOD = `
name: range
cluster: lab
networks:
  zone: { name: range, type: vlan, bridge: vmbr0 }
  vnets:
    - name: lan
      tag: 300
      subnets: [{ cidr: 10.30.0.0/24, gateway: 10.30.0.1 }]
    - name: dmz
      tag: 301
      subnets: [{ cidr: 10.31.0.0/24, gateway: 10.31.0.1 }]
vms:
  - name: router
    template: debian-12-template
    memory: 1G
    networks: [{ vnet: lan, address: 10.30.0.1 }, { vnet: dmz, address: 10.31.0.1 }]
  - name: dc
    template: debian-12-template
    memory: 4G
    networks: [{ vnet: lan, address: 10.30.0.10, gateway: 10.30.0.1 }]
    dependsOn: [router]
  - name: client
    template: debian-12-template
    count: 4
    memory: 2G
    networks: [{ vnet: lan, address: 10.30.0.100, gateway: 10.30.0.1 }]
    dependsOn: [dc]
`;
