// The lab file's schema: one zod schema, strict (unknown keys refused), whose output is machines/lab's LabSpec with
// defaults filled in and sizes and durations converted; and its JSON Schema for editors (protocol/lab-file.schema.json,
// written by scripts/lab-schema.ts). Parsing the text (YAML or JSON) is in lab-file-parse.ts.
import { z } from 'zod';
import { parseCidr, parseIp, parseIpWithPrefix } from '../machines/lab/ip';
import {
  CLONE_MODES,
  DRIFT_POLICIES,
  defaultZoneName,
  FAILURE_POLICIES,
  LAB_DEFAULTS,
  LAB_FILE_VERSION,
  type LabProbe,
  type LabSpec,
  PROBE_TYPES,
  ZONE_TYPES,
} from '../machines/lab/spec';
import { parseDuration, parseSize } from '../machines/lab/units';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const dnsLabel = () =>
  z.string().regex(DNS_LABEL, {
    error: "must be a DNS label: lowercase letters, digits and '-' (not first or last), at most 63 characters",
  });
const nodeName = z
  .string()
  .regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, { error: 'must be a PVE node name (e.g. pve1)' });
const bridgeName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/, {
  error: 'must be a Linux bridge name of at most 15 characters (e.g. vmbr0)',
});
const vlanTag = z.number().int().min(1).max(4094).describe('VLAN tag, 1–4094');
const ipAddress = z.string().refine((t) => parseIp(t) !== undefined, { error: 'must be an IPv4 or IPv6 address' });
const cidr = z
  .string()
  .refine((t) => parseCidr(t) !== undefined, { error: 'must be a network in CIDR form (e.g. 10.42.1.0/24)' });
const nicAddress = z
  .string()
  .refine((t) => t === 'dhcp' || parseIp(t) !== undefined || parseIpWithPrefix(t) !== undefined, {
    error: "must be 'dhcp' or an IP address, with or without prefix (e.g. 10.42.1.10/24)",
  });
const pveTag = z
  .string()
  .regex(/^[a-zA-Z0-9_][a-zA-Z0-9_+.-]*$/, { error: "must be a PVE tag: letters, digits and '_', '-', '+', '.'" });

function size(numberUnit: 'M' | 'G', what: string) {
  const unit = numberUnit === 'M' ? 'MiB' : 'GiB';
  return z
    .union([z.number().positive(), z.string()], { error: `must be a number of ${unit} or a size like 512M, 4G, 1T` })
    .transform((value, ctx) => {
      const mib = parseSize(value, numberUnit);
      if (mib === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be a number of ${unit} or a size like 512M, 4G, 1T` });
        return z.NEVER;
      }
      return mib;
    })
    .describe(`${what}: a number of ${unit}, or a size with unit (512M, 4G, 1T)`);
}

function duration(what: string) {
  return z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms === 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration like 90s, 5m, 8h, 1h30m or 2d' });
        return z.NEVER;
      }
      return ms;
    })
    .describe(`${what}: a duration like 90s, 5m, 8h, 1h30m, 2d`);
}

// Each object's keys (also listed in "unknown key" messages), innermost first.
const dhcpShape = { start: ipAddress, end: ipAddress };
const subnetShape = {
  cidr,
  gateway: ipAddress.optional(),
  dhcp: z.strictObject(dhcpShape).optional().describe('A DHCP range (simple zones only; needs the gateway)'),
};
const zoneShape = {
  name: z
    .string()
    .regex(/^[a-zA-Z][a-zA-Z0-9]{0,7}$/, {
      error: 'must be a PVE zone id: letters and digits, starting with a letter, at most 8',
    })
    .optional()
    .describe("PVE SDN zone id (default: from the lab's name)"),
  type: z
    .enum(ZONE_TYPES)
    .describe('simple: isolated, local to one node (the lab runs on one node); vlan: VLANs on a bridge'),
  bridge: bridgeName.optional().describe('vlan zones: the bridge carrying the VLANs'),
};
const vnetShape = {
  name: z
    .string()
    .regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, { error: "must start with a letter and hold letters, digits and '-'" })
    .describe("With a zone: the PVE VNet id (letters and digits, at most 8). Without: the network's name in this file"),
  tag: vlanTag.optional(),
  bridge: bridgeName.optional().describe('Without a zone: the bridge the VLAN rides on'),
  subnets: z.array(z.strictObject(subnetShape)).default([]),
};
const networksShape = {
  zone: z.strictObject(zoneShape).optional().describe("The lab's SDN zone; absent: plain bridges with VLAN tags"),
  vnets: z.array(z.strictObject(vnetShape)).default([]),
};
const nicShape = {
  vnet: z.string().min(1).optional().describe("One of the lab's networks"),
  bridge: bridgeName.optional().describe('Or an uplink out of the lab: a bridge of the nodes (not isolated)'),
  tag: vlanTag.optional().describe('VLAN tag on an uplink bridge'),
  address: nicAddress
    .optional()
    .describe("'dhcp' or a static address through cloud-init; members after the first count up"),
  gateway: ipAddress.optional(),
};
const probeShape = {
  type: z.enum(PROBE_TYPES).describe('agent: QEMU guest agent ping; tcp: a port accepts; ssh: a command exits 0'),
  port: z.number().int().min(1).max(65535).optional(),
  command: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  timeout: duration('timeout').optional(),
};
const cloudInitShape = {
  user: z.string().min(1).max(64).optional(),
  sshKeys: z
    .array(z.string().regex(/^(ssh|ecdsa|sk)-[a-z0-9@.-]+ \S+/, { error: 'must be an OpenSSH public key' }))
    .optional(),
  nameserver: ipAddress.optional(),
  searchDomain: z.string().min(1).max(253).optional(),
};

const nicSchema = z.strictObject(nicShape).superRefine((nic, ctx) => {
  if ((nic.vnet === undefined) === (nic.bridge === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: nic.vnet === undefined ? [] : ['bridge'],
      message: "a NIC is on one of the lab's networks (vnet) or on an uplink bridge (bridge): give exactly one",
    });
  }
  if (nic.vnet !== undefined && nic.tag !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tag'], message: 'a vnet NIC takes its VLAN from the vnet: remove tag' });
  }
});

const probeSchema = z.strictObject(probeShape).transform((p, ctx): LabProbe => {
  const timeout = p.timeout ?? LAB_DEFAULTS.probeTimeoutMs;
  const kind = `${p.type === 'agent' ? 'an' : 'a'} ${p.type} probe`;
  const refuse = (key: string, why: string) => {
    ctx.addIssue({ code: 'custom', path: [key], message: why });
    return z.NEVER;
  };
  if (p.type !== 'tcp' && p.port !== undefined) return refuse('port', `${kind} has no port`);
  if (p.type !== 'ssh' && p.command !== undefined) return refuse('command', `${kind} has no command`);
  if (p.type !== 'ssh' && p.user !== undefined) return refuse('user', `${kind} has no user`);
  if (p.type === 'tcp') {
    return p.port === undefined ? refuse('port', 'a tcp probe needs the port') : { type: 'tcp', port: p.port, timeout };
  }
  if (p.type === 'ssh') {
    if (p.command === undefined) return refuse('command', 'an ssh probe needs the command to run');
    return { type: 'ssh', command: p.command, ...(p.user !== undefined ? { user: p.user } : {}), timeout };
  }
  return { type: 'agent', timeout };
});

const vmShape = {
  name: dnsLabel(),
  template: z
    .union([z.string().min(1), z.number().int().min(100).max(999_999_999)], {
      error: 'must be a template name or VMID',
    })
    .describe('The template (or, for a full clone, any guest) by name or VMID'),
  clone: z.enum(CLONE_MODES).default(LAB_DEFAULTS.clone).describe('linked needs a template'),
  node: nodeName.optional().describe('Pin to a node; absent: placed by free memory'),
  cores: z.number().int().min(1).max(512).optional(),
  memory: size('M', 'memory').optional(),
  disk: size('G', 'disk').optional(),
  networks: z.array(nicSchema).optional().describe("The NICs; absent: the template's are kept"),
  tags: z.array(pveTag).optional(),
  count: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(LAB_DEFAULTS.count)
    .describe('Identical members <name>-1 … <name>-<count>'),
  dependsOn: z.array(z.string().min(1)).default([]).describe('VMs (all their members) or members started first'),
  probe: probeSchema.optional().describe('Readiness; absent: running is ready'),
  cloudInit: z.strictObject(cloudInitShape).optional(),
};
const policyShape = {
  parallelism: z.number().int().min(1).max(64).default(LAB_DEFAULTS.parallelism),
  onFailure: z.enum(FAILURE_POLICIES).default(LAB_DEFAULTS.onFailure),
  ttl: duration('ttl').optional().describe('Tear the lab down this long after it is ready'),
  drift: z.enum(DRIFT_POLICIES).default(LAB_DEFAULTS.drift),
};
const labShape = {
  version: z.literal(LAB_FILE_VERSION).optional(),
  name: dnsLabel(),
  cluster: z.string().min(1).max(64),
  description: z.string().max(1000).optional(),
  pool: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be a PVE pool id: letters, digits, '_' and '-'" })
    .optional()
    .describe("The PVE pool of the lab's guests (default: the lab's name)"),
  networks: z.strictObject(networksShape).prefault({}),
  vms: z.array(z.strictObject(vmShape)).min(1),
  policy: z.strictObject(policyShape).prefault({}),
};

/** Each object of the file by where it sits (`*` for an index): its keys, for "unknown key" messages. */
const SHAPES: Readonly<Record<string, object>> = {
  '': labShape,
  networks: networksShape,
  'networks.zone': zoneShape,
  'networks.vnets.*': vnetShape,
  'networks.vnets.*.subnets.*': subnetShape,
  'networks.vnets.*.subnets.*.dhcp': dhcpShape,
  'vms.*': vmShape,
  'vms.*.networks.*': nicShape,
  'vms.*.probe': probeShape,
  'vms.*.cloudInit': cloudInitShape,
  policy: policyShape,
};

/** The lab file as written (input) → LabSpec (output). */
export const LabFileSchema = z.strictObject(labShape).transform((raw): LabSpec => {
  const zone = raw.networks.zone;
  return {
    version: LAB_FILE_VERSION,
    name: raw.name,
    cluster: raw.cluster,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    pool: raw.pool ?? raw.name,
    networks: {
      ...(zone ? { zone: { ...zone, name: zone.name ?? defaultZoneName(raw.name) } } : {}),
      vnets: raw.networks.vnets,
    },
    vms: raw.vms,
    policy: raw.policy,
  };
});

export type LabFileInput = z.input<typeof LabFileSchema>;

/** The keys an object at `path` may have, for "unknown key" messages. */
export function knownKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  const shape = SHAPES[path.map((p) => (typeof p === 'number' ? '*' : String(p))).join('.')];
  return shape ? Object.keys(shape) : undefined;
}

/** A name, not a place: editors find the schema by path (`# yaml-language-server: $schema=…`). */
export const LAB_FILE_SCHEMA_ID = 'urn:overseer:lab-file:1';

/** The JSON Schema (draft 2020-12) of the lab file as written, for editors (yaml-language-server, VS Code). */
export function labFileJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(LabFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  return {
    $schema,
    $id: LAB_FILE_SCHEMA_ID,
    title: 'Overseer lab file',
    description: 'A lab: its networks and VMs, deployed, changed and torn down by Overseer as one gated unit.',
    ...rest,
  };
}
