// Parameter verification as PVE's JSONSchema does it, over HTTPS through the real proxmox-api client.
// Every expected message is PVE's own (proxmox/pve-common src/PVE/JSONSchema.pm and the format verifiers).
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PveParamError } from '../../adapters/pve-sim/errors';
import { formats, P, type ParamSchema, verifyParams } from '../../adapters/pve-sim/params';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

/** A value the client's types do not allow: what a careless caller sends. */
const raw = <T>(v: unknown): T => v as T;

/** The `errors` object of a 400 "Parameter verification failed." that proxmox-api turned into an Error. */
async function refused(call: Promise<unknown>): Promise<Record<string, string>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const message = (err as Error).message;
  expect(message).toMatch(/return Error 400 Parameter verification failed\.: /);
  const body = JSON.parse(message.slice(message.indexOf(': {') + 2)) as {
    message: string;
    errors: Record<string, string>;
  };
  expect(body.message).toBe('Parameter verification failed.\n');
  return body.errors;
}

describe('pve-sim parameter verification', () => {
  let t: TestSim;
  let px: ReturnType<typeof proxmoxApi>;
  beforeEach(async () => {
    t = await startTestSim();
    const f = (url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: t.agent });
    px = proxmoxApi({
      host: '127.0.0.1',
      port: t.sim.port,
      tokenID: TOKEN.tokenid,
      tokenSecret: TOKEN.secret,
      fetch: f as unknown as ClientFetch,
    });
  });
  afterEach(() => t.close());

  it('params - booleans are only 0 and 1: true, yes, on, false are refused in PVE words', async () => {
    const qemu = px.nodes.$('pve1').qemu;
    for (const v of ['true', 'yes', 'on', 'false', 'off', '2', '']) {
      expect(await refused(qemu.$get({ full: raw<boolean>(v) }))).toEqual({
        full: `type check ('boolean') failed - got '${v}'`,
      });
    }
    // The client sends true and false as 1 and 0.
    expect((await qemu.$get({ full: true })).length).toBeGreaterThan(0);
    expect((await qemu.$get({ full: false })).length).toBeGreaterThan(0);
  });

  it('params - a JSON body true is a JSON boolean, which PVE takes; the string "true" and an array are refused', async () => {
    const ok = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { json: { newid: 130, full: true } });
    expect(ok.status).toBe(200);
    const bad = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { json: { newid: 131, full: 'true' } });
    expect(bad.status).toBe(400);
    expect(bad.body?.errors).toEqual({ full: "type check ('boolean') failed - got 'true'" });
    // An array is a list only where the format is a -list one; anywhere else it fails the type check.
    const array = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { json: { newid: [132, 133] } });
    expect(array.body?.errors).toEqual({ newid: "type check ('integer') failed - got ARRAY" });
  });

  it('params - a snapshot name is a pve-configid: dashes and capitals pass, at most 40 characters', async () => {
    const vm = px.nodes.$('pve3').qemu.$(113);
    expect(await vm.snapshot.$post({ snapname: 'pre-upgrade' })).toMatch(/:qmsnapshot:113:/);
    expect(await px.nodes.$('pve1').qemu.$(108).snapshot.$post({ snapname: 'Pre_Upgrade-2' })).toMatch(/^UPID:/);
    expect(
      await px.nodes
        .$('pve2')
        .qemu.$(112)
        .snapshot.$post({ snapname: 'x'.repeat(40) }),
    ).toMatch(/^UPID:/);

    expect(await refused(vm.snapshot.$post({ snapname: 'x'.repeat(41) }))).toEqual({
      snapname: 'value may only be 40 characters long',
    });
    expect(await refused(vm.snapshot.$post({ snapname: '1bad' }))).toEqual({
      snapname: "invalid format - invalid configuration ID '1bad'\n",
    });
    // [a-z][a-z0-9_-]+ needs two characters; no dots.
    expect(await refused(vm.snapshot.$post({ snapname: 'a' }))).toEqual({
      snapname: "invalid format - invalid configuration ID 'a'\n",
    });
    expect(await refused(vm.snapshot.$post({ snapname: 'v1.2' }))).toEqual({
      snapname: "invalid format - invalid configuration ID 'v1.2'\n",
    });
    expect(await refused(vm.config.$get({ snapshot: 'y'.repeat(41) }))).toEqual({
      snapshot: 'value may only be 40 characters long',
    });
  });

  it('params - a VM name is a DNS name with no 63-character label limit', async () => {
    const template = px.nodes.$('pve1').qemu.$(9000);
    const long = `${'a'.repeat(80)}.${'b'.repeat(70)}`;
    expect(await template.clone.$post({ newid: 140, name: long })).toMatch(/:qmclone:9000:/);
    expect(await template.clone.$post({ newid: 141, name: 'Web-01.lab' })).toMatch(/^UPID:/);
    for (const name of ['web_01', 'web-', '-web', 'web..lab', 'web 01']) {
      expect(await refused(template.clone.$post({ newid: 142, name }))).toEqual({
        name: 'invalid format - value does not look like a valid DNS name\n',
      });
    }
  });

  it('params - a parameter that requires another names the missing one', async () => {
    const vm = px.nodes.$('pve1').qemu.$(100);
    expect(await refused(vm.status.suspend.$post({ statestorage: 'local-lvm' }))).toEqual({
      todisk: "missing property required by 'statestorage'",
    });
    // requires asks for presence only: todisk=0 satisfies it.
    expect(await vm.status.suspend.$post({ statestorage: 'local-lvm', todisk: false })).toMatch(/:qmsuspend:100:/);
  });

  it('params - list formats check each element and answer the first bad one in its format words', async () => {
    const tasks = px.nodes.$('pve1').tasks;
    expect(await tasks.$get({ statusfilter: 'ok,error;warning unknown' })).toEqual([]);
    expect(await refused(tasks.$get({ statusfilter: 'ok,bogus,worse' }))).toEqual({
      statusfilter: "invalid format - invalid status 'bogus'\n",
    });
    const start = px.nodes.$('pve3').qemu.$(102).status.start;
    expect(await refused(start.$post({ targetstorage: 'local:bad!' }))).toEqual({
      targetstorage:
        "invalid format - entry 'local:bad!' contains invalid ID - storage ID 'bad!' contains illegal characters\n\n\n",
    });
  });

  it('params - integers: the format comes before the bounds, and bounds are worded as PVE words them', async () => {
    expect(await refused(px.nodes.$('pve1').qemu.$(raw<number>('abc')).status.current.$get())).toEqual({
      vmid: "type check ('integer') failed - got 'abc'",
    });
    // pve-vmid's format (^[1-9][0-9]{2,8}$) is checked before minimum 100.
    expect(await refused(px.nodes.$('pve1').qemu.$(99).status.current.$get())).toEqual({
      vmid: 'invalid format - value does not look like a valid VM ID\n',
    });
    expect(await refused(px.nodes.$('pve1').qemu.$(100).status.shutdown.$post({ timeout: -5 }))).toEqual({
      timeout: 'value must have a minimum value of 0',
    });
    expect(
      await refused(
        px.nodes
          .$('pve1')
          .qemu.$(100)
          .status.shutdown.$post({ timeout: raw<number>('1.5') }),
      ),
    ).toEqual({ timeout: "type check ('integer') failed - got '1.5'" });
  });

  it('params - pattern, maxLength and enum answer in PVE words', async () => {
    const start = px.nodes.$('pve3').qemu.$(102).status.start;
    expect(await refused(start.$post({ 'nets-host-mtu': 'mtu=1500' } as never))).toEqual({
      'nets-host-mtu': 'value does not match the regex pattern',
    });
    expect(await refused(start.$post({ stateuri: 's'.repeat(129) }))).toEqual({
      stateuri: 'value may only be 128 characters long',
    });
    expect(await refused(start.$post({ migration_type: raw<'secure'>('fast') }))).toEqual({
      migration_type: "value 'fast' does not have a value in the enumeration 'secure, insecure'",
    });
    expect(await start.$post({ 'nets-host-mtu': 'net0=1500,net1=9000' } as never)).toMatch(/:qmstart:102:/);
  });

  it('params - unknown, missing and malformed parameters are all named in one 400', async () => {
    const clone = px.nodes.$('pve1').qemu.$(9000).clone;
    const errors = await refused(
      clone.$post(raw<{ newid: number }>({ bogus: 'x', name: 'no_underscores', full: 'yes', storage: 'l' })),
    );
    expect(errors).toEqual({
      newid: 'property is missing and it is not optional',
      bogus: 'property is not defined in schema and the schema does not allow additional properties',
      name: 'invalid format - value does not look like a valid DNS name\n',
      full: "type check ('boolean') failed - got 'yes'",
      storage: "invalid format - storage ID 'l' cannot be shorter than 2 characters\n",
    });
    const answer = await t.api('POST', '/nodes/pve1/qemu/9000/clone', { form: { newid: 150, pool: 'a/b/c/d' } });
    expect(answer.status).toBe(400);
    expect(answer.statusText).toBe('Parameter verification failed.');
    expect(answer.body).toEqual({
      data: null,
      message: 'Parameter verification failed.\n',
      errors: { pool: "invalid format - pool name 'a/b/c/d' nested too deeply (max levels = 3)\n" },
    });
  });
});

/** The per-parameter messages verifyParams throws with. */
function errorsOf(raw: Record<string, string>, schema: ParamSchema): Record<string, string> | undefined {
  try {
    verifyParams(raw, schema);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(PveParamError);
    return (e as PveParamError).errors;
  }
}

describe('pve-sim parameter verification (formats the served routes do not reach)', () => {
  it('params - pve-vmid-list and pve-tag-list split on , ; blanks and NUL and name the first bad element', () => {
    const schema: ParamSchema = {
      vmid: { type: 'string', format: formats.vmidList },
      tags: { type: 'string', format: formats.tagList },
    };
    expect(verifyParams({ vmid: '100,101;102 103', tags: 'web;prod,a.b+c' }, schema)).toEqual({
      vmid: '100,101;102 103',
      tags: 'web;prod,a.b+c',
    });
    // "we allow empty lists"
    expect(verifyParams({ vmid: '', tags: '' }, schema)).toEqual({ vmid: '', tags: '' });
    expect(errorsOf({ vmid: '100\u0000abc', tags: 'web,-bad' }, schema)).toEqual({
      vmid: 'invalid format - value does not look like a valid VM ID\n',
      tags: 'invalid format - invalid characters in tag\n',
    });
  });

  it('params - string-list takes anything; maxLength counts characters, not UTF-16 units', () => {
    const schema: ParamSchema = {
      list: { type: 'string', format: formats.stringList, optional: true },
      short: { type: 'string', maxLength: 3 },
    };
    expect(verifyParams({ list: 'a b,;\u00e4', short: '\u{1F600}\u00e4\u00f6' }, schema)).toEqual({
      list: 'a b,;\u00e4',
      short: '\u{1F600}\u00e4\u00f6',
    });
    expect(errorsOf({ short: 'abcd' }, schema)).toEqual({ short: 'value may only be 3 characters long' });
  });

  it('params - two messages for one parameter are joined with a literal backslash-n, as Perl single quotes do', () => {
    const schema: ParamSchema = { a: { type: 'string', optional: true, requires: 'b' }, b: { type: 'string' } };
    expect(errorsOf({ a: 'x' }, schema)).toEqual({
      b: "property is missing and it is not optional\\nmissing property required by 'a'",
    });
    expect(verifyParams({ a: 'x', b: 'y' }, schema)).toEqual({ a: 'x', b: 'y' });
  });

  it('params - the standard options carry PVE formats: a VM ID has at most 9 digits and no sign', () => {
    const schema: ParamSchema = { vmid: P.vmid, node: P.node };
    expect(errorsOf({ vmid: '1000000000', node: 'pve_1' }, schema)).toEqual({
      vmid: 'invalid format - value does not look like a valid VM ID\n',
      node: 'invalid format - value does not look like a valid node name\n',
    });
    expect(errorsOf({ vmid: '+100', node: 'pve1' }, schema)).toEqual({
      vmid: 'invalid format - value does not look like a valid VM ID\n',
    });
    // A plain integer may carry a sign (is_integer: ^[+-]?\d+$).
    expect(verifyParams({ timeout: '+5' }, { timeout: P.optInt0 })).toEqual({ timeout: 5 });
  });
});
