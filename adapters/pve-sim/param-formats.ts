// PVE's named parameter formats (apidata's `format`), each checked as PVE's registered verifier does and
// failing with the text that verifier dies with. PVE's messages end in "\n" (Perl `die "...\n"`), and the
// JSONSchema verifier puts them after "invalid format - " unchanged, so the answers carry that newline.
// Sources: proxmox/pve-common src/PVE/JSONSchema.pm and src/PVE/ParseUtils.pm, proxmox/pve-access-control
// src/PVE/AccessControl.pm and src/PVE/Auth/Plugin.pm, proxmox/pve-ha-manager src/PVE/HA/Tools.pm,
// proxmox/pve-storage src/PVE/Storage/Plugin.pm.
import { isIPv4, isIPv6 } from 'node:net';

export interface PveFormat {
  /** The name PVE registers the format under, as apidata's `format` writes it (e.g. `pve-vmid-list`). */
  readonly name: string;
  /**
   * The text PVE's verifier dies with (ending in "\n"), or undefined when the value passes. `path` is the
   * parameter's name (a property string's errors name its keys under it: `ipconfig0.ip`).
   */
  check(value: string, path?: string): string | undefined;
}

/**
 * A whole-value match the way Perl's `m/^...$/` matches: `$` also matches before one final newline.
 * `re` must be anchored with ^ and $ and have no `m` flag.
 */
export function perlMatch(re: RegExp, value: string): boolean {
  return re.test(value) || (value.endsWith('\n') && re.test(value.slice(0, -1)));
}

const byRegex = (name: string, re: RegExp, message: (v: string) => string): PveFormat => ({
  name,
  check: (v) => (perlMatch(re, v) ? undefined : `${message(v)}\n`),
});

/**
 * PVE::ParseUtils::split_list: values holding NUL are split on it (how repeated parameters arrive);
 * otherwise `,` and `;` count as blanks and the list is split on runs of whitespace. Like Perl's split,
 * trailing empty fields are dropped; an empty value is an empty list.
 */
export function splitList(value: string): string[] {
  const parts = value.includes('\0') ? value.split('\0') : value.replace(/[,;]/g, ' ').trimStart().split(/\s+/);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * `<format>-list` (JSONSchema.pm check_format): the value is split with split_list and every element
 * goes through the element format; the first failing element's message is the answer.
 * "# Note: we allow empty lists"
 */
export function listOf(element: PveFormat): PveFormat {
  return {
    name: `${element.name}-list`,
    check(value) {
      for (const item of splitList(value)) {
        const err = element.check(item);
        if (err !== undefined) return err;
      }
      return undefined;
    },
  };
}

// pve_verify_vmid: `if ($vmid !~ m/^[1-9][0-9]{2,8}$/) { ... die "value does not look like a valid VM ID\n";`
const vmid = byRegex('pve-vmid', /^[1-9][0-9]{2,8}$/, () => 'value does not look like a valid VM ID');

// pve_verify_node_name: `if ($node !~ m/^([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)$/) {`
//   `die "value does not look like a valid node name\n";`
const node = byRegex(
  'pve-node',
  /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/,
  () => 'value does not look like a valid node name',
);

// pve_verify_configid: `our $CONFIGID_RE = qr/[a-z][a-z0-9_-]+/i;` ... `if ($id !~ m/^$CONFIGID_RE$/) {`
//   `die "invalid configuration ID '$id'\n";`
const configId = byRegex('pve-configid', /^[a-z][a-z0-9_-]+$/i, (v) => `invalid configuration ID '${v}'`);

// pve_verify_dns_name: `my $namere = "([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)";`
//   `if ($name !~ /^(${namere}\.)*${namere}$/) { ... die "value does not look like a valid DNS name\n";`
// No label or total length limit: a VM name of 64+ characters is a valid DNS name to PVE.
const label = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const dnsName = byRegex(
  'dns-name',
  new RegExp(`^(${label}\\.)*${label}$`),
  () => 'value does not look like a valid DNS name',
);

// parse_storage_id -> parse_id($storeid, 'storage'):
//   `if (length($id) < 2) { ... die "$type ID '$id' cannot be shorter than 2 characters\n";`
//   `if ($id !~ m/^[a-z][a-z0-9\-\_\.]*[a-z0-9]$/i) { ... die "$type ID '$id' contains illegal characters\n";`
const storageId: PveFormat = {
  name: 'pve-storage-id',
  check(v) {
    if ([...v].length < 2) return `storage ID '${v}' cannot be shorter than 2 characters\n`;
    if (!perlMatch(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, v)) return `storage ID '${v}' contains illegal characters\n`;
    return undefined;
  },
};

// AccessControl.pm verify_poolname:
//   `if (split("/", $poolname) > 3) { die "pool name '$poolname' nested too deeply (max levels = 3)\n"`
//   `if ($poolname !~ m!^[A-Za-z0-9\.\-_]+(?:/[A-Za-z0-9\.\-_]+){0,2}$!) {`
//   `die "pool name '$poolname' contains invalid characters\n"`
const poolId: PveFormat = {
  name: 'pve-poolid',
  check(v) {
    const levels = v.split('/');
    while (levels.length > 0 && levels[levels.length - 1] === '') levels.pop();
    if (levels.length > 3) return `pool name '${v}' nested too deeply (max levels = 3)\n`;
    if (!perlMatch(/^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/, v)) {
      return `pool name '${v}' contains invalid characters\n`;
    }
    return undefined;
  },
};

// pve_verify_tag: `our $PVE_TAG_RE = qr/[a-z0-9_][a-z0-9_\-\+\.]*/i;`
//   `return $value if $value =~ m/^${PVE_TAG_RE}$/i;` ... `die "invalid characters in tag\n";`
const tag = byRegex('pve-tag', /^[a-z0-9_][a-z0-9_\-+.]*$/i, () => 'invalid characters in tag');

// Auth/Plugin.pm pve_verify_realm: `our $realm_regex = qr/[A-Za-z][A-Za-z0-9\.\-_]+/;`
//   `if ($realm !~ m/^${realm_regex}$/) { ... die "value does not look like a valid realm\n";`
const realm = byRegex('pve-realm', /^[A-Za-z][A-Za-z0-9.\-_]+$/, () => 'value does not look like a valid realm');

// HA/Tools.pm pve_verify_ha_resource_or_vm_id: `if ($sid !~ m/^([a-z]+:\S+|\d+)$/) {`
//   `die "value does not look like a valid ha resource id\n";`
const haResourceOrVmId = byRegex(
  'pve-ha-resource-or-vm-id',
  /^([a-z]+:\S+|\d+)$/,
  () => 'value does not look like a valid ha resource id',
);

// HA/Tools.pm pve_verify_ha_resource_id: `if ($sid !~ m/^[a-z]+:\S+$/) {`
//   `die "value does not look like a valid ha resource id\n";`
const haResourceId = byRegex(
  'pve-ha-resource-id',
  /^[a-z]+:\S+$/,
  () => 'value does not look like a valid ha resource id',
);

// Storage/Plugin.pm verify_content: `return $ct if $ct eq 'import';` then the content types of the 'dir'
// plugin ("dir includes all other types": images rootdir vztmpl iso backup snippets none import);
//   `die "invalid content type '$ct'\n";`
const STORAGE_CONTENT = new Set(['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'none', 'import']);
const storageContent: PveFormat = {
  name: 'pve-storage-content',
  check: (v) => (STORAGE_CONTENT.has(v) ? undefined : `invalid content type '${v}'\n`),
};

// verify_task_status_type: `return $value if $value =~ m/^(ok|error|warning|unknown)$/i;`
//   `die "invalid status '$value'\n";`
const taskStatusType = byRegex('pve-task-status-type', /^(ok|error|warning|unknown)$/i, (v) => `invalid status '${v}'`);

// pve_verify_cidrv4 / pve_verify_cidrv6 / pve_verify_cidr: an IPv4 address with a prefix of 8..32, or an
// IPv6 address with a prefix of 8..128: `($1 > 7) && ($1 <= 32)`, `($1 > 7) && ($1 <= 128)`;
//   `die "value does not look like a valid CIDR network\n";`
// (PVE's address regexes take no zone index and no leading zeros in IPv4 octets; node:net agrees on the latter.)
function isCidr(v: string): boolean {
  const m = /^([^/]+)\/(\d+)$/.exec(v.endsWith('\n') ? v.slice(0, -1) : v);
  if (!m || m[1]!.includes('%')) return false;
  const bits = Number(m[2]);
  if (isIPv4(m[1]!)) return bits > 7 && bits <= 32;
  if (isIPv6(m[1]!)) return bits > 7 && bits <= 128;
  return false;
}
const cidr: PveFormat = {
  name: 'CIDR',
  check: (v) => (isCidr(v) ? undefined : 'value does not look like a valid CIDR network\n'),
};

// verify_storagepair -> $verify_idpair -> parse_idmap($entry, 'pve-storage-id') for one list entry:
//   `if ($entry eq '1') {` (identity) `} elsif ($entry =~ m/^([^:]+):([^:]+)$/) {` both sides checked, else the
//   entry itself; `die "entry '$entry' contains invalid ID - $@\n" if $@;` and $verify_idpair `die "$@\n";`
// so the storage ID message gains two more newlines.
const storagePair: PveFormat = {
  name: 'storage-pair',
  check(entry) {
    if (entry === '1') return undefined;
    const pair = /^([^:]+):([^:]+)$/.exec(entry);
    const ids = pair ? [pair[1]!, pair[2]!] : [entry];
    for (const id of ids) {
      const err = storageId.check(id);
      if (err !== undefined) return `entry '${entry}' contains invalid ID - ${err}\n\n`;
    }
    return undefined;
  },
};

// register_format('string', sub { }); # allow format => 'string-list'
const string: PveFormat = { name: 'string', check: () => undefined };

export const formats = {
  vmid,
  node,
  configId,
  dnsName,
  storageId,
  poolId,
  tag,
  realm,
  haResourceId,
  haResourceOrVmId,
  storageContent,
  taskStatusType,
  cidr,
  storagePair,
  string,
  vmidList: listOf(vmid),
  nodeList: listOf(node),
  configIdList: listOf(configId),
  storageIdList: listOf(storageId),
  tagList: listOf(tag),
  storageContentList: listOf(storageContent),
  taskStatusTypeList: listOf(taskStatusType),
  storagePairList: listOf(storagePair),
  stringList: listOf(string),
} as const satisfies Record<string, PveFormat>;
