import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { formatIssue, LabFileInvalidError } from '../../machines/lab';
import { checkLabFile, labFileFormatOf, loadLabFile } from '../../protocol/lab-file-parse';
import { THREE_TIER } from './helpers';

const minimal = (extra = '', vm = '') => `
name: small
cluster: lab
${extra}
vms:
  - name: box
    template: debian-12-template
${vm}`;

const problems = (text: string, format?: 'json' | 'yaml') => checkLabFile(text, { format }).issues.map(formatIssue);

describe('labs - lab file parsing', () => {
  it('labs - a minimal file gets every default', () => {
    const spec = loadLabFile(minimal());
    expect(spec).toEqual({
      version: 1,
      name: 'small',
      cluster: 'lab',
      pool: 'small',
      networks: { vnets: [] },
      vms: [{ name: 'box', template: 'debian-12-template', clone: 'linked', count: 1, dependsOn: [] }],
      policy: { parallelism: 4, onFailure: 'rollback', drift: 'report' },
    });
  });

  it('labs - sizes and durations become MiB and milliseconds', () => {
    const spec = loadLabFile(
      minimal(
        'policy: { ttl: 1h30m, parallelism: 8, drift: repair }',
        '    memory: 4G\n    disk: 40\n    probe: { type: ssh, command: "systemctl is-active nginx", user: debian, timeout: 90s }',
      ),
    );
    expect(spec.vms[0]).toMatchObject({
      memory: 4096,
      disk: 40 * 1024,
      probe: { type: 'ssh', command: 'systemctl is-active nginx', user: 'debian', timeout: 90_000 },
    });
    expect(spec.policy).toEqual({ parallelism: 8, onFailure: 'rollback', ttl: 5_400_000, drift: 'repair' });
    expect(loadLabFile(minimal('', '    memory: 512')).vms[0]!.memory).toBe(512);
    expect(loadLabFile(minimal('', '    probe: { type: agent }')).vms[0]!.probe).toEqual({
      type: 'agent',
      timeout: 300_000,
    });
  });

  it('labs - a zone without a name is named from the lab, and the pool defaults to the lab name', () => {
    const spec = loadLabFile(`
name: 3-tier-lab
cluster: lab
networks:
  zone: { type: simple }
  vnets: [{ name: net1 }]
vms: [{ name: a, template: 9000 }]
`);
    expect(spec.networks.zone).toEqual({ name: 'l3tierla', type: 'simple' });
    expect(spec.pool).toBe('3-tier-lab');
  });

  it('labs - the same lab as JSON parses to the same spec as YAML', () => {
    const yaml = loadLabFile(THREE_TIER);
    const json = JSON.stringify(parseYaml(THREE_TIER));
    expect(loadLabFile(json, { format: 'json' })).toEqual(yaml);
    expect(labFileFormatOf('lab.JSON')).toBe('json');
    expect(labFileFormatOf('lab.yml')).toBe('yaml');
  });

  it('labs - an unknown key is refused at its exact path, with its line and a suggestion', () => {
    const text = minimal('', '    dependson: [x]');
    const { issues } = checkLabFile(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'vms[0].dependson', line: 8 });
    expect(formatIssue(issues[0]!)).toMatch(
      /^vms\[0\]\.dependson \(line 8\): unknown key 'dependson'; did you mean 'dependsOn'\?/,
    );
    expect(problems(minimal('colour: red'))).toEqual([
      expect.stringMatching(/^colour \(line 4\): unknown key 'colour' \(the lab takes: version, name, cluster/),
    ]);
  });

  it('labs - unknown keys deep inside are refused one by one', () => {
    const text = `
name: x
cluster: lab
networks:
  vnets:
    - name: front
      bridge: vmbr0
      tag: 10
      subnets: [{ cidr: 10.0.0.0/24, dhcp: { start: 10.0.0.10, end: 10.0.0.20, lease: 1h } }]
vms:
  - name: a
    template: 9000
    networks: [{ vnet: front, mac: 'aa:bb' }]
    cloudInit: { user: debian, password: secret }
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^networks\.vnets\[0\]\.subnets\[0\]\.dhcp\.lease \(line 9\): unknown key 'lease'/),
      expect.stringMatching(/^vms\[0\]\.networks\[0\]\.mac \(line 13\): unknown key 'mac'/),
      expect.stringMatching(/^vms\[0\]\.cloudInit\.password \(line 14\): unknown key 'password'/),
    ]);
  });

  it('labs - wrong types, values and missing keys name their paths', () => {
    const text = `
name: Bad_Name
vms:
  - name: a
    template: true
    clone: copy
    count: 0
    memory: lots
    probe: { type: ping }
policy: { ttl: 8 hours, onFailure: retry }
`;
    expect(problems(text)).toEqual([
      // a missing key is placed at the mapping that lacks it
      'cluster (line 2): is required',
      expect.stringMatching(/^name \(line 2\): must be a DNS label/),
      'vms[0].template (line 5): must be a template name or VMID',
      "vms[0].clone (line 6): must be one of 'linked', 'full': 'copy' is not one of them",
      'vms[0].count (line 7): must be at least 1 (not 0)',
      'vms[0].memory (line 8): must be a number of MiB or a size like 512M, 4G, 1T',
      "vms[0].probe.type (line 9): must be one of 'agent', 'tcp', 'ssh': 'ping' is not one of them",
      'policy.ttl (line 10): must be a duration like 90s, 5m, 8h, 1h30m or 2d',
      "policy.onFailure (line 10): must be one of 'rollback', 'keep': 'retry' is not one of them",
    ]);
  });

  it('labs - probes take only their own settings', () => {
    expect(problems(minimal('', '    probe: { type: tcp }'))).toEqual([
      'vms[0].probe.port (line 8): a tcp probe needs the port',
    ]);
    expect(problems(minimal('', '    probe: { type: agent, port: 22 }'))).toEqual([
      'vms[0].probe.port (line 8): an agent probe has no port',
    ]);
    expect(problems(minimal('', '    probe: { type: ssh }'))).toEqual([
      'vms[0].probe.command (line 8): an ssh probe needs the command to run',
    ]);
  });

  it('labs - a NIC is on a vnet or on an uplink bridge, exactly one', () => {
    const nic = (n: string) => minimal('', `    networks: [${n}]`);
    expect(problems(nic('{ address: dhcp }'))).toEqual([
      expect.stringMatching(
        /^vms\[0\]\.networks\[0\] \(line 8\): a NIC is on one of the lab's networks \(vnet\) or on an uplink/,
      ),
    ]);
    expect(problems(nic('{ vnet: a, bridge: vmbr0 }'))).toEqual([
      expect.stringMatching(/^vms\[0\]\.networks\[0\]\.bridge \(line 8\): a NIC is on one/),
    ]);
    expect(problems(nic('{ vnet: a, tag: 5 }'))[0]).toBe(
      'vms[0].networks[0].tag (line 8): a vnet NIC takes its VLAN from the vnet: remove tag',
    );
    expect(problems(nic('{ bridge: vmbr0, address: 10.1.2.3.4 }'))).toEqual([
      "vms[0].networks[0].address (line 8): must be 'dhcp' or an IP address, with or without prefix (e.g. 10.42.1.10/24)",
    ]);
  });

  it('labs - YAML errors, duplicate keys, bad JSON and empty files are one clear issue', () => {
    expect(problems('name: a\n  cluster: [b\n')).toEqual([expect.stringMatching(/^not valid YAML: .* \(line \d+\)$/)]);
    expect(problems('name: a\ncluster: lab\nname: b\nvms: []\n')).toEqual([
      'a key appears twice in the same mapping (line 3)',
    ]);
    expect(problems('{"name": "a",}', 'json')).toEqual([expect.stringMatching(/^not valid JSON: /)]);
    expect(problems('')).toEqual(['the file is empty']);
    expect(problems('# only a comment\n')).toEqual(['the file is empty']);
    expect(problems('- a\n- b\n')).toEqual(['must be a mapping, not a list (line 1)']);
  });

  it('labs - loadLabFile throws a typed error carrying every issue', () => {
    let caught: unknown;
    try {
      loadLabFile(minimal('colour: red', '    count: 0'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LabFileInvalidError);
    const err = caught as LabFileInvalidError;
    expect(err.name).toBe('LabFileInvalidError');
    expect(err.issues.map((i) => i.path)).toEqual(['colour', 'vms[0].count']);
    expect(err.message).toMatch(/^invalid lab file \(2 problems\):\n {2}colour \(line 4\): unknown key/);
  });

  it('labs - YAML 1.2: `no` stays text, anchors and merge keys repeat a VM', () => {
    const spec = loadLabFile(`
name: yaml-lab
cluster: lab
vms:
  - &base { name: web, template: debian-12-template, memory: 1G, tags: [on] }
  - { <<: *base, name: no }
`);
    expect(spec.vms.map((v) => [v.name, v.memory, v.tags])).toEqual([
      ['web', 1024, ['on']],
      ['no', 1024, ['on']],
    ]);
  });
});
