import { describe, expect, it } from 'vitest';
import { formatIssue, validateLab } from '../../machines/lab';
import { checkLabFile } from '../../protocol/lab-file-parse';
import { demoInventory, GiB, problemsOf, resolvedOf, specOf, THREE_TIER } from './helpers';

/** The issues of the file's own rules, without line numbers. */
const own = (text: string) => checkLabFile(text).issues.map((i) => formatIssue({ ...i, line: undefined }));
const cluster = (text: string, inventory = demoInventory()) =>
  validateLab(specOf(text), inventory).issues.map(formatIssue);

const lab = (networks: string, vms: string) => `
name: t
cluster: lab
${networks}
vms:
${vms}`;
const VLAN = `networks:
  zone: { name: t, type: vlan, bridge: vmbr0 }
  vnets:
    - { name: front, tag: 10, subnets: [{ cidr: 10.1.0.0/24, gateway: 10.1.0.1 }] }`;
const one = (extra = '') => `  - { name: a, template: 9000${extra} }`;

describe('labs - the file on its own', () => {
  it('labs - the three-tier lab passes every rule', () => {
    expect(own(THREE_TIER)).toEqual([]);
  });

  it('labs - duplicate VM names and member names that clash', () => {
    expect(own(lab('', `${one()}\n${one()}`))).toEqual(["vms[1].name: duplicate VM name 'a' (also vms[0])"]);
    expect(own(lab('', '  - { name: web, template: 9000, count: 2 }\n  - { name: web-2, template: 9000 }'))).toEqual([
      "vms[1].name: member name 'web-2' is taken twice: by vms[1] and by a member of 'web' (vms[0])",
    ]);
  });

  it('labs - a NIC on an unknown vnet names the path and the vnets there are', () => {
    expect(own(lab(VLAN, one(', networks: [{ vnet: dmz }]')))).toEqual([
      "vms[0].networks[0].vnet: unknown vnet 'dmz' (vnets: 'front')",
    ]);
  });

  it('labs - subnets of the lab must not overlap', () => {
    const text = lab(`${VLAN}\n    - { name: back, tag: 11, subnets: [{ cidr: 10.1.0.128/25 }] }`, one());
    expect(own(text)).toEqual([
      "networks.vnets[1].subnets[0].cidr: 10.1.0.128/25 overlaps 10.1.0.0/24 (networks.vnets[0].subnets[0], vnet 'front')",
    ]);
  });

  it('labs - zone rules: a vlan zone needs its bridge and tags, a simple zone has neither', () => {
    expect(own(lab('networks:\n  zone: { type: vlan }\n  vnets: [{ name: a1 }]', one()))).toEqual([
      'networks.zone.bridge: a vlan zone needs the bridge its VLANs ride on',
      "networks.vnets[0].tag: a VNet of vlan zone 't' needs its VLAN tag",
    ]);
    expect(
      own(lab('networks:\n  zone: { type: simple, bridge: vmbr0 }\n  vnets: [{ name: a1, tag: 5 }]', one())),
    ).toEqual([
      'networks.zone.bridge: a simple zone makes its own bridges: remove bridge',
      "networks.vnets[0].tag: a VNet of simple zone 't' has no VLAN tag",
    ]);
    expect(own(lab('networks:\n  zone: { type: simple }\n  vnets: [{ name: frontend-net }]', one()))).toEqual([
      "networks.vnets[0].name: 'frontend-net' is not a PVE VNet id: letters and digits, starting with a letter, at most 8",
    ]);
  });

  it('labs - without SDN a network is a plain bridge with its own VLAN tag', () => {
    expect(own(lab('networks:\n  vnets: [{ name: front }]', one()))).toEqual([
      'networks.vnets[0].bridge: without an SDN zone (networks.zone) a network is a plain bridge with a VLAN tag: name its bridge',
      'networks.vnets[0].tag: a plain bridge network needs a VLAN tag to keep the lab isolated',
    ]);
    const twice = 'networks:\n  vnets: [{ name: a, bridge: vmbr1, tag: 7 }, { name: b, bridge: vmbr1, tag: 7 }]';
    expect(own(lab(twice, one()))).toEqual(["networks.vnets[1].tag: VLAN 7 is already networks.vnets[0]'s"]);
    const plain = 'networks:\n  vnets: [{ name: front, bridge: vmbr1, tag: 7, subnets: [{ cidr: 10.9.0.0/24 }] }]';
    const r = resolvedOf(lab(plain, one(', networks: [{ vnet: front, address: 10.9.0.5 }]')));
    expect(r.members[0]!.config.nics).toEqual([{ bridge: 'vmbr1', tag: 7, address: '10.9.0.5/24' }]);
  });

  it('labs - subnets: network address, gateway inside, DHCP only in simple zones and with a gateway', () => {
    const sub = (s: string, zone = '{ type: simple }') =>
      lab(`networks:\n  zone: ${zone}\n  vnets: [{ name: n, subnets: [${s}] }]`, one());
    expect(own(sub('{ cidr: 10.0.0.5/24 }'))).toEqual([
      'networks.vnets[0].subnets[0].cidr: 10.0.0.5/24 is not a network address (10.0.0.0/24)',
    ]);
    expect(own(sub('{ cidr: 10.0.0.0/24, gateway: 10.0.1.1 }'))).toEqual([
      'networks.vnets[0].subnets[0].gateway: 10.0.1.1 is not a host address of 10.0.0.0/24',
    ]);
    expect(own(sub('{ cidr: 10.0.0.0/24, dhcp: { start: 10.0.0.10, end: 10.0.0.20 } }'))).toEqual([
      'networks.vnets[0].subnets[0].dhcp: DHCP needs the subnet to have a gateway',
    ]);
    const vlanZone = '{ type: vlan, bridge: vmbr0 }';
    const vlanDhcp = lab(
      `networks:\n  zone: ${vlanZone}\n  vnets: [{ name: n, tag: 3, subnets: [{ cidr: 10.0.0.0/24, gateway: 10.0.0.1, dhcp: { start: 10.0.0.10, end: 10.0.0.20 } }] }]`,
      one(),
    );
    expect(own(vlanDhcp)).toEqual(['networks.vnets[0].subnets[0].dhcp: PVE serves DHCP in simple zones only']);
    expect(own(sub('{ cidr: 10.0.0.0/24, gateway: 10.0.0.1, dhcp: { start: 10.0.0.20, end: 10.0.0.10 } }'))).toEqual([
      'networks.vnets[0].subnets[0].dhcp.end: the range ends (10.0.0.10) before it starts',
    ]);
  });

  it('labs - static addresses count up per member and must fit the subnet', () => {
    const r = resolvedOf(THREE_TIER);
    expect(r.members.filter((m) => m.vm === 'web').map((m) => m.config.nics![0]!.address)).toEqual([
      '10.42.1.11/24',
      '10.42.1.12/24',
      '10.42.1.13/24',
    ]);
    const over = lab(VLAN, one(', count: 3, networks: [{ vnet: front, address: 10.1.0.253 }]'));
    expect(own(over)).toEqual([
      "vms[0].networks[0].address: a-3 (member 3 of 'a') would get 10.1.0.255, which is not a host address of 10.1.0.0/24",
    ]);
    expect(own(lab(VLAN, one(', networks: [{ vnet: front, address: 10.2.0.5 }]')))).toEqual([
      'vms[0].networks[0].address: 10.2.0.5 is outside the subnets of vnet front (10.1.0.0/24)',
    ]);
    expect(own(lab(VLAN, one(', networks: [{ vnet: front, address: 10.1.0.5/16 }]')))).toEqual([
      "vms[0].networks[0].address: 10.1.0.5/16 does not match subnet 10.1.0.0/24's prefix",
    ]);
    expect(own(lab('', one(', networks: [{ bridge: vmbr0, address: 192.168.1.5 }]')))).toEqual([
      'vms[0].networks[0].address: 192.168.1.5 needs a prefix length (e.g. 192.168.1.5/24)',
    ]);
  });

  it('labs - two members may not get the same address on the same network', () => {
    const text = lab(
      VLAN,
      `${one(', networks: [{ vnet: front, address: 10.1.0.10 }]')}\n  - { name: b, template: 9000, count: 2, networks: [{ vnet: front, address: 10.1.0.9 }] }`,
    );
    expect(own(text)).toEqual([
      'vms[1].networks[0].address: b-2 would get 10.1.0.10, which a (vms[0].networks[0]) already has',
    ]);
  });

  it('labs - in a simple zone the gateway is the node bridge, and DHCP ranges are not for static addresses', () => {
    const simple = `networks:
  zone: { type: simple }
  vnets: [{ name: n, subnets: [{ cidr: 10.5.0.0/24, gateway: 10.5.0.1, dhcp: { start: 10.5.0.100, end: 10.5.0.200 } }] }]`;
    expect(own(lab(simple, one(', networks: [{ vnet: n, address: 10.5.0.1 }]')))).toEqual([
      "vms[0].networks[0].address: 10.5.0.1 is the gateway of 10.5.0.0/24, which a simple zone gives to the node's bridge",
    ]);
    expect(own(lab(simple, one(', networks: [{ vnet: n, address: 10.5.0.150 }]')))).toEqual([
      'vms[0].networks[0].address: 10.5.0.150 is inside the DHCP range 10.5.0.100–10.5.0.200 of 10.5.0.0/24',
    ]);
    expect(own(lab(simple, one(', networks: [{ vnet: n, address: dhcp, gateway: 10.5.0.1 }]')))).toEqual([
      'vms[0].networks[0].gateway: a DHCP address gets its gateway from DHCP',
    ]);
  });

  it('labs - a member guest name is <lab>-<member> and must stay one DNS label', () => {
    expect(resolvedOf(THREE_TIER).members.map((m) => m.guestName)).toEqual([
      'tt-router',
      'tt-db',
      'tt-web-1',
      'tt-web-2',
      'tt-web-3',
    ]);
    const long = 'a'.repeat(59);
    expect(own(lab('', `  - { name: ${long}, template: 9000, count: 10 }`))).toEqual([
      `vms[0].name: guest name 't-${long}-10' (lab name, '-', member name) is longer than 63 characters`,
    ]);
  });

  it('labs - IPv6 subnets and addresses work the same way', () => {
    const v6 = `networks:
  zone: { type: simple }
  vnets: [{ name: n, subnets: [{ cidr: 'fd00:42::/64', gateway: 'fd00:42::1' }, { cidr: 'fd00:42::/48' }] }]`;
    expect(own(lab(v6, one()))).toEqual([
      "networks.vnets[0].subnets[1].cidr: fd00:42::/48 overlaps fd00:42::/64 (networks.vnets[0].subnets[0], vnet 'n')",
    ]);
    const ok = v6.replace(", { cidr: 'fd00:42::/48' }", '');
    const r = resolvedOf(lab(ok, one(", count: 2, networks: [{ vnet: n, address: 'fd00:42::ff' }]")));
    expect(r.members.map((m) => m.config.nics![0]!.address)).toEqual(['fd00:42::ff/64', 'fd00:42::100/64']);
  });
});

describe('labs - the file against the cluster', () => {
  it('labs - templates by name or VMID resolve; an unknown one lists the templates there are', () => {
    const r = resolvedOf(THREE_TIER);
    expect(r.members[1]!.template).toEqual({
      vmid: 9000,
      name: 'debian-12-template',
      node: 'pve1',
      type: 'qemu',
      memory: 2048,
      disk: 32 * 1024,
    });
    expect(cluster(lab('', '  - { name: a, template: debian-13 }'))).toEqual([
      "vms[0].template: unknown template 'debian-13' on cluster 'lab' (templates: 'debian-12-template' (9000), 'debian-12-ct-template' (9100))",
    ]);
    expect(cluster(lab('', '  - { name: a, template: 9001 }'))[0]).toMatch(
      /^vms\[0\]\.template: unknown template 9001 on cluster 'lab'/,
    );
  });

  it('labs - a linked clone needs a template, a full clone takes any guest', () => {
    expect(cluster(lab('', '  - { name: a, template: web-01 }'))).toEqual([
      "vms[0].clone: a linked clone needs a template; VM 100 'web-01' is not one (use clone: full)",
    ]);
    expect(cluster(lab('', '  - { name: a, template: web-01, clone: full }'))).toEqual([]);
  });

  it('labs - a disk only grows, a container has no agent and no cloud-init', () => {
    expect(cluster(lab('', one(', disk: 16G')))).toEqual([
      "vms[0].disk: 16 GiB is smaller than the 32 GiB disk of VM 9000 'debian-12-template': a disk can only grow",
    ]);
    expect(cluster(lab('', '  - { name: c, template: 9100, probe: { type: agent }, cloudInit: { user: x } }'))).toEqual(
      [
        "vms[0].probe.type: CT 9100 'debian-12-ct-template' is a container: no guest agent, use a tcp or ssh probe",
        "vms[0].cloudInit: CT 9100 'debian-12-ct-template' is a container: containers have no cloud-init",
      ],
    );
  });

  it('labs - the file must be for the inventory cluster', () => {
    expect(cluster(THREE_TIER.replace('cluster: lab', 'cluster: prod'))).toEqual([
      "cluster: the inventory is of cluster 'lab', not 'prod'",
    ]);
  });

  it('labs - guest names and the pool must not be taken by guests of someone else', () => {
    const inv = demoInventory();
    const taken = {
      ...inv,
      guests: [...inv.guests, { vmid: 777, name: 't-a', node: 'pve2', template: false, maxmem: GiB, maxdisk: GiB }],
    };
    expect(cluster(lab('', one()), taken)).toEqual([
      "vms[0].name: guest name 't-a' is already used by 777 on pve2, which is not a member of this lab",
    ]);
    expect(cluster(lab('pool: lab1', one()))).toEqual([
      "pool: pool 'lab1' already holds guests that are not this lab's (106, 107, 108, 109, 301): choose another pool",
    ]);
  });

  it("labs - zone, vnet and VLAN ids of the cluster and of other labs are not the lab's to take", () => {
    const inv = {
      ...demoInventory(),
      sdn: {
        zones: [
          { zone: 'other', type: 'vlan', bridge: 'vmbr0' },
          { zone: 't', type: 'simple' },
        ],
        vnets: [{ vnet: 'front', zone: 'other', tag: 10 }],
        subnets: [{ cidr: '10.1.0.0/16', vnet: 'front' }],
      },
    };
    expect(cluster(lab(VLAN, one()), inv)).toEqual([
      "networks.zone.name: zone 't' already exists on cluster 'lab': choose another zone name",
      "networks.vnets[0].name: vnet 'front' already exists on cluster 'lab' (zone 'other'): VNet ids are cluster-wide",
      "networks.vnets[0].tag: VLAN 10 on bridge vmbr0 is already vnet 'front' of zone 'other': the lab would share its network",
      "networks.vnets[0].subnets[0].cidr: 10.1.0.0/24 overlaps 10.1.0.0/16 of vnet 'front'",
    ]);
  });

  it('labs - plain bridge networks collide with other labs by bridge and VLAN, and by subnet', () => {
    const inv = {
      ...demoInventory(),
      labs: [{ name: 'red', vnets: [{ name: 'lan', bridge: 'vmbr1', tag: 7, subnets: [{ cidr: '10.7.0.0/24' }] }] }],
    };
    const mine = 'networks:\n  vnets: [{ name: lan, bridge: vmbr1, tag: 7, subnets: [{ cidr: 10.7.0.128/25 }] }]';
    expect(cluster(lab(mine, one()), inv)).toEqual([
      "networks.vnets[0].tag: VLAN 7 on bridge vmbr1 is already network 'lan' of lab 'red': the lab would share its network",
      "networks.vnets[0].subnets[0].cidr: 10.7.0.128/25 overlaps 10.7.0.0/24 of lab 'red' (network 'lan')",
    ]);
    expect(cluster(lab(VLAN, one()), { ...demoInventory(), sdn: null })).toEqual([
      "networks.zone: cluster 'lab' has no SDN: leave out networks.zone and give each network a bridge and a VLAN tag",
    ]);
  });

  it('labs - the example three-tier lab resolves with waves, placements and NICs', () => {
    const r = resolvedOf(THREE_TIER);
    expect(r.waves).toEqual([['router'], ['db'], ['web-1', 'web-2', 'web-3']]);
    expect(r.members.map((m) => [m.name, m.wave, m.memory, m.placement])).toEqual([
      ['router', 0, 1024, 'automatic'],
      ['db', 1, 4096, 'automatic'],
      ['web-1', 2, 2048, 'automatic'],
      ['web-2', 2, 2048, 'automatic'],
      ['web-3', 2, 2048, 'automatic'],
    ]);
    expect(r.members[0]!.config.nics).toEqual([
      { bridge: 'vmbr0', address: 'dhcp' },
      { bridge: 'front', address: '10.42.1.1/24' },
      { bridge: 'back', address: '10.42.2.1/24' },
    ]);
  });

  it('labs - problemsOf runs the schema first: a schema error stops before the cluster checks', () => {
    expect(problemsOf(lab('', '  - { name: a, template: nope, colour: red }'))).toEqual([
      expect.stringMatching(/^vms\[0\]\.colour \(line 6\): unknown key 'colour'/),
    ]);
  });
});
