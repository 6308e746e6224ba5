// The simulator's route tables against the official PVE API schema (pve-docs api-viewer/apidata.js, the
// subset in fixtures/apidata-subset.json made by fixtures/extract-apidata.mjs). For every route served:
// the same parameter names, optionality, types, enums, bounds, lengths, patterns, `requires` and formats,
// and proxying to {node} where PVE proxies. Deliberate differences are listed below with their reasons.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeed } from '../../adapters/pve-sim';
import type { ParamSpec } from '../../adapters/pve-sim/params';
import { ROUTES, type Route } from '../../adapters/pve-sim/routes';
import { startTestSim, type TestSim } from './helpers';

interface ApiParam {
  type?: string;
  optional?: boolean;
  format?: string | Record<string, unknown>;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  requires?: string | Record<string, unknown>;
}

/** A return shape as the fixture keeps it. */
interface ApiShape {
  type?: string | string[];
  optional?: boolean;
  enum?: unknown[];
  items?: ApiShape;
  properties?: Record<string, ApiShape>;
}

interface ApiEndpoint {
  parameters: Record<string, ApiParam>;
  returns: ApiShape;
  proxyto?: string;
  permissions?: { check?: unknown[]; user?: string };
}

interface Fixture {
  source: { repository: string; commit: string };
  endpoints: Record<string, Record<string, ApiEndpoint>>;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/apidata-subset.json', import.meta.url), 'utf8')) as Fixture;

/**
 * Formats the simulator takes without checking them, with the reason. A property string (a format that is
 * a set of keys, like `machine`) is named PROPERTY_STRING.
 */
const PROPERTY_STRING = '<property string>';
const UNVERIFIED_FORMATS: Record<string, string> = {
  [PROPERTY_STRING]:
    'property strings (machine=...) describe hardware the simulator does not model; it takes them as text',
  'pve-priv-list':
    "checking needs pve-access-control's full privilege table; the simulator has no ACL tree to ask about",
};

/** Per-parameter differences ('METHOD /path param'), with the reason. Such parameters are not compared. */
const DIFFERENCES: Record<string, string> = {
  'POST /nodes/{node}/vzdump exclude-path':
    'an array (repeated parameter) of paths to leave out of container archives; the simulator takes it as text',
  'POST /cluster/sdn/vnets alias':
    "apidata writes the pattern as Perl's stringified qr//i, (?^i:...); the simulator has the same class in JavaScript",
  'PUT /nodes/{node}/lxc/{vmid}/config entrypoint':
    "apidata writes the pattern as Perl's stringified qr//, (?^:...); the simulator has the same class in JavaScript",
  'PUT /nodes/{node}/lxc/{vmid}/config env':
    "apidata writes the pattern as Perl's stringified qr//, (?^:...); the simulator has the same pattern in JavaScript",
};

/** Whole routes the simulator serves that apidata does not have. */
const NOT_IN_APIDATA: Record<string, string> = {};

const pathOf = (r: Route) => `/${r.path.join('/')}`;

function formatName(p: ApiParam): string | undefined {
  if (p.format === undefined) return undefined;
  return typeof p.format === 'string' ? p.format : PROPERTY_STRING;
}

/** The differences between one simulator parameter and its apidata definition, in words. */
function compareParam(name: string, sim: ParamSpec, api: ApiParam): string[] {
  const out: string[] = [];
  const same = (what: string, s: unknown, a: unknown) => {
    if (JSON.stringify(s) !== JSON.stringify(a)) {
      out.push(`${name}: ${what} is ${JSON.stringify(s) ?? 'unset'}, PVE has ${JSON.stringify(a) ?? 'unset'}`);
    }
  };
  same('type', sim.type, api.type);
  same('optional', sim.optional === true, api.optional === true);
  same('enum', sim.enum, api.enum);
  same('minimum', sim.min, api.minimum);
  same('maximum', sim.max, api.maximum);
  same('minLength', sim.minLength, api.minLength);
  same('maxLength', sim.maxLength, api.maxLength);
  same('pattern', sim.pattern, api.pattern);
  same('requires', sim.requires, api.requires);
  const apiFormat = formatName(api);
  const simFormat = sim.format?.name;
  if (!(simFormat === undefined && apiFormat !== undefined && apiFormat in UNVERIFIED_FORMATS)) {
    same('format', simFormat, apiFormat);
  }
  return out;
}

/** The ['perm', path, [privs]] clauses of a permission check, however nested in and/or. */
function permClauses(check: unknown): Array<{ path: string; privs: string[] }> {
  if (!Array.isArray(check)) return [];
  if (check[0] === 'perm' && typeof check[1] === 'string' && Array.isArray(check[2])) {
    return [{ path: check[1], privs: check[2] as string[] }];
  }
  return check.flatMap((c) => permClauses(c));
}

/**
 * apidata's name of a simulator parameter: apidata names an indexed option once (`net[n]`) where PVE takes net0,
 * net1, ...; the simulator lists each.
 */
function apiName(name: string, api: ApiEndpoint): string {
  if (name in api.parameters) return name;
  const indexed = name.replace(/\d+$/, '[n]');
  return indexed in api.parameters ? indexed : name;
}

/** Every difference between a route's schema and apidata's, not counting the deliberate ones. */
function routeDifferences(r: Route, api: ApiEndpoint): string[] {
  const key = `${r.method} ${pathOf(r)}`;
  const out: string[] = [];
  const taken = new Set(Object.keys(r.schema).map((name) => apiName(name, api)));
  for (const name of Object.keys(api.parameters).sort()) {
    if (!taken.has(name) && !(`${key} ${name}` in DIFFERENCES)) out.push(`${name}: not taken by the simulator`);
  }
  for (const name of Object.keys(r.schema).sort()) {
    const apiKey = apiName(name, api);
    if (`${key} ${apiKey}` in DIFFERENCES) continue;
    const sim = r.schema[name]!;
    const def = api.parameters[apiKey];
    if (!def) out.push(`${name}: not a PVE parameter`);
    else out.push(...compareParam(name, sim, def));
  }
  if (r.perm) {
    // The ACL path and privilege the simulator refuses audit-only principals with, against PVE's check.
    const placeholders = Object.fromEntries(r.path.filter((x) => x.startsWith('{')).map((x) => [x.slice(1, -1), x]));
    const { acl, priv } = r.perm(placeholders);
    const clauses = permClauses(api.permissions?.check);
    if (!clauses.some((c) => c.path === acl && c.privs.includes(priv))) {
      out.push(`perm (${acl}, ${priv}) is not in PVE's check ${JSON.stringify(api.permissions?.check)}`);
    }
  }
  const pveProxies = api.proxyto === 'node';
  if ((r.proxied ?? false) !== pveProxies) out.push(`proxied is ${r.proxied ?? false}, PVE proxyto ${api.proxyto}`);
  return out;
}

describe('pve-sim API schema (pve-docs apidata.js)', () => {
  it('api-schema - the fixture names the pve-docs commit it was extracted from', () => {
    expect(fixture.source.repository).toBe('proxmox/pve-docs');
    expect(fixture.source.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('api-schema - every deliberate difference names a route the simulator serves', () => {
    const served = new Set(ROUTES.map((r) => `${r.method} ${pathOf(r)}`));
    const stale = [
      ...Object.keys(DIFFERENCES),
      ...Object.keys(NOT_IN_APIDATA),
      ...Object.keys(RETURN_DIFFERENCES).map((k) => k.split(':')[0]!),
    ].filter((k) => !served.has(k.split(' ').slice(0, 2).join(' ')));
    expect(stale).toEqual([]);
  });

  it.each(ROUTES.map((r) => [`${r.method} ${pathOf(r)}`, r] as const))(
    'api-schema - %s takes the parameters PVE takes',
    (key, r) => {
      if (key in NOT_IN_APIDATA) return;
      const api = fixture.endpoints[pathOf(r)]?.[r.method];
      if (!api) {
        expect.fail(`${key} is not in fixtures/apidata-subset.json: re-run tests/pve-sim/fixtures/extract-apidata.mjs`);
      }
      expect(routeDifferences(r, api).join('\n')).toBe('');
    },
  );
});

/**
 * Where an answer's shape differs from apidata's `returns` on purpose ('GET /path: <difference>'), with the
 * reason: mostly where real PVE itself answers other than its schema says.
 */
const RETURN_DIFFERENCES: Record<string, string> = {
  'GET /cluster/nextid: $ is "116", apidata says integer':
    'PVE answers the ID as a JSON string ({"data":"116"}), as clients parse it; the schema says integer',
};

/** The differences between a value and a return shape, by JSON path ($, $.x, $[]). */
function shapeDifferences(value: unknown, shape: ApiShape, at: string, out: Set<string>): void {
  const types = shape.type === undefined ? [] : Array.isArray(shape.type) ? shape.type : [shape.type];
  const fits = (t: string): boolean => {
    switch (t) {
      case 'array':
        return Array.isArray(value);
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      case 'integer':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      case 'string':
        return typeof value === 'string';
      // PVE writes booleans as 0/1 (and JSON true/false where a module uses JSON::true).
      case 'boolean':
        return value === 0 || value === 1 || typeof value === 'boolean';
      case 'null':
        return value === null;
      default:
        return true;
    }
  };
  if (types.length > 0 && !types.some(fits)) {
    out.add(`${at} is ${JSON.stringify(value)?.slice(0, 40)}, apidata says ${types.join('|')}`);
    return;
  }
  if (shape.enum && !shape.enum.map(String).includes(String(value))) {
    out.add(`${at} is ${JSON.stringify(value)}, not one of apidata's ${shape.enum.join(', ')}`);
  }
  if (Array.isArray(value) && shape.items) {
    for (const v of value) shapeDifferences(v, shape.items, `${at}[]`, out);
  } else if (typeof value === 'object' && value !== null && shape.properties) {
    const obj = value as Record<string, unknown>;
    for (const [k, sub] of Object.entries(shape.properties)) {
      if (obj[k] === undefined || obj[k] === null) {
        if (!sub.optional) out.add(`${at}.${k} is missing, apidata requires it`);
      } else shapeDifferences(obj[k], sub, `${at}.${k}`, out);
    }
  }
}

describe('pve-sim answers against apidata returns', () => {
  let t: TestSim;
  /** A task on pve1, for the /tasks/{upid} routes. */
  let upid = '';
  beforeAll(async () => {
    // apidata describes the release of its pve-docs commit (9.1.3): the simulated cluster runs it too.
    const seed = { ...demoSeed(), version: '9.1.3' };
    seed.vms.push({
      vmid: 250,
      type: 'lxc',
      name: 'ct-shape',
      node: 'pve1',
      status: 'running',
      tags: ['web'],
      pool: 'lab1',
      cores: 1,
      maxmem: 512 * 1024 ** 2,
      maxdisk: 8 * 1024 ** 3,
      snapshots: [{ name: 'base', description: 'fresh' }],
      backups: [{ ageHours: 5 }],
    });
    seed.storages = [
      ...(seed.storages ?? []),
      { storage: 'pbs-main', type: 'pbs', server: '10.0.0.50', datastore: 'main' },
    ];
    seed.backupJobs = [{ id: 'backup-nightly', schedule: '21:00', all: true, storage: 'pbs-main' }];
    t = await startTestSim({ seed });
    upid = await t.op('POST', '/nodes/pve1/qemu/108/status/start');
    // An SDN zone, VNet and subnet for the /cluster/sdn routes (pending: the config view has them).
    await t.op('POST', '/cluster/sdn/zones', { zone: 'lab', type: 'simple', ipam: 'pve' });
    await t.op('POST', '/cluster/sdn/vnets', { vnet: 'labnet', zone: 'lab' });
    await t.op('POST', '/cluster/sdn/vnets/labnet/subnets', {
      subnet: '10.10.0.0/24',
      type: 'subnet',
      gateway: '10.10.0.1',
      snat: 1,
      'dhcp-range': 'start-address=10.10.0.100,end-address=10.10.0.200',
    });
  });
  afterAll(() => t.close());

  /** A concrete URL for a GET route of the seeded cluster. */
  function sampleUrl(r: Route): string {
    const ct = r.path.includes('lxc');
    const captures: Record<string, string> = {
      node: 'pve1',
      vmid: ct ? '250' : '111',
      snapname: ct ? 'base' : 'before_upgrade',
      upid,
      storage: 'local',
      sid: 'vm:105',
      poolid: 'lab1',
      id: 'backup-nightly',
      zone: 'lab',
      vnet: 'labnet',
      subnet: 'lab-10.10.0.0-24',
    };
    return `/${r.path.map((seg) => (seg.startsWith('{') ? encodeURIComponent(captures[seg.slice(1, -1)] ?? seg) : seg)).join('/')}`;
  }

  const gets = ROUTES.filter((r) => r.method === 'GET' && !r.open);
  it.each(gets.map((r) => [`GET ${pathOf(r)}`, r] as const))(
    'api-schema - %s answers in the shape apidata gives',
    async (key, r) => {
      const api = fixture.endpoints[pathOf(r)]?.GET;
      if (!api) return; // reported by the parameter test
      const url = sampleUrl(r);
      const answer = await t.api('GET', url);
      expect(answer.status, `${url}: ${answer.statusText}`).toBe(200);
      const out = new Set<string>();
      shapeDifferences(answer.body?.data, api.returns, '$', out);
      const unexpected = [...out].filter((d) => !(`${key}: ${d}` in RETURN_DIFFERENCES));
      expect(unexpected.join('\n')).toBe('');
    },
  );
});
