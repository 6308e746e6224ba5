// Labs: POST /v1/labs/plan (what applying a lab file would do; nothing is done), POST /v1/labs (apply a lab file as
// the token's owner), GET /v1/labs (live labs, or all with ?live=false), GET /v1/labs/:name (one lab with its
// members), and the commands on one: POST /v1/labs/:name/approve, /deny, /destroy, /snapshot and /revert. A plan of a
// file with problems answers 200 with `ok: false` and every issue with its path (and line): it is a plan's answer,
// not a malformed call; an apply of such a file is refused (400 naming the first problem's path). A command on an
// unknown lab is a 404; one the lab's state does not allow is the core's refusal (400, field `name`).
import { z } from 'zod';
import type { CoreClient, Role } from '../../protocol';
import {
  BusRemoteError,
  LabActPayloadSchema,
  LabRefPayloadSchema,
  LabSnapshotPayloadSchema,
  LabViewSchema,
  querySchemas,
} from '../../protocol';
import { NotFoundError } from '../errors';
import { OffsetSchema, queryInt } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

const ClusterQuerySchema = LabRefPayloadSchema.shape.cluster.describe(
  'The lab’s cluster, when labs of that name run on two',
);

export const LabParamsSchema = z.strictObject({ name: LabRefPayloadSchema.shape.name });

export const LabQuerySchema = z.strictObject({ cluster: ClusterQuerySchema });

export const LabListQuerySchema = z.strictObject({
  cluster: z.string().min(1).max(64).optional().describe('Only labs on this cluster'),
  live: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('`false`: ended labs too (destroyed, rolled back, denied, …); default `true`: labs not ended'),
  limit: queryInt(1, 500).optional().describe('Labs in the page (100)'),
  offset: OffsetSchema.optional(),
});

/** approve, deny, destroy: which lab is in the path; the body may name its cluster and give a reason. */
export const LabActBodySchema = LabActPayloadSchema.omit({ name: true });
/** snapshot, revert: the snapshot's name (and the lab's cluster). */
export const LabSnapshotBodySchema = LabSnapshotPayloadSchema.omit({ name: true });

type ActQuery = 'labApprove' | 'labDeny' | 'labDestroy';
type SnapshotQuery = 'labSnapshot' | 'labRevert';

const ACTS: { word: string; query: ActQuery; role: Role; summary: string; description: string }[] = [
  {
    word: 'approve',
    query: 'labApprove',
    role: querySchemas.labApprove.role,
    summary: 'Approve a lab the gate sent for approval: its deploy begins',
    description:
      'Only a lab awaiting approval can be approved, and never by the person who applied it (the two-person rule; ' +
      'the core may ask for a higher role). The reason is kept with the approval and in the audit log.',
  },
  {
    word: 'deny',
    query: 'labDeny',
    role: querySchemas.labDeny.role,
    summary: 'Deny a lab awaiting approval (or, as its requester, cancel it)',
    description:
      'Another person (or an admin) denies it; the person who applied it cancels it. Either way it ends and ' +
      'nothing is created.',
  },
  {
    word: 'destroy',
    query: 'labDestroy',
    // The core lets only a role that may destroy a guest (admin) destroy a lab: a lower one is a 403 here.
    role: 'admin',
    summary: 'Tear a lab down: everything it made, newest first, and nothing else',
    description:
      'A lab that is ready or failed can be destroyed, by the role that may destroy a guest (admin). The answer ' +
      'is the lab as the teardown begins (`tearing_down`); it ends `destroyed`.',
  },
];

const SNAPSHOT_ACTS: { word: string; query: SnapshotQuery; summary: string; description: string }[] = [
  {
    word: 'snapshot',
    query: 'labSnapshot',
    summary: 'Snapshot every member of a ready lab under one name',
    description:
      'The answer is the lab as the snapshot begins (`snapshotting`); it is back to `ready` when done, with the ' +
      'snapshot listed, or with `failure` (step `snapshot`) when a member could not be snapshotted.',
  },
  {
    word: 'revert',
    query: 'labRevert',
    summary: 'Roll every member of a ready lab back to one of its whole-lab snapshots',
    description:
      'The snapshot must be one of the lab’s (`snapshots`). The answer is the lab as the rollback begins ' +
      '(`reverting`); it is back to `ready` when done, with `failure` (step `revert`) if a member failed.',
  },
];

const where = (cluster: string | undefined): string => (cluster !== undefined ? ` on cluster ${cluster}` : '');

/**
 * Runs a command on a lab. The core refuses a command on a lab it does not know as it refuses one in the wrong state
 * (field `name`); only then is the lab looked up, so that an unknown one is a 404.
 */
async function onLab<T>(core: CoreClient, name: string, cluster: string | undefined, command: () => Promise<T>) {
  try {
    return await command();
  } catch (error) {
    if (
      !(error instanceof BusRemoteError && error.remoteName === 'InputRefusedError' && error.remoteField === 'name')
    ) {
      throw error;
    }
    const lab = await core.query('lab', { name, ...(cluster !== undefined ? { cluster } : {}) }).catch(() => error);
    if (lab === null) throw new NotFoundError(`no lab ${name}${where(cluster)}`);
    throw error;
  }
}

export function registerLabRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'planLab',
      method: 'post',
      path: '/v1/labs/plan',
      role: 'observer',
      tag: 'labs',
      summary: 'Plan a lab file: what an apply would create, change or remove, and its problems (nothing is done)',
      description:
        '`file` is the lab file’s text (YAML or JSON; `fileName` ending in `.json` reads it as JSON). `ok: false` ' +
        'lists every problem with its path (`vms[2].networks[0].vnet`) and line; `lines` is the plan as ' +
        'terraform-like lines.',
      body: querySchemas.labPlan.payload,
      success: { status: 200, description: 'The plan, or the problems', schema: querySchemas.labPlan.reply },
    },
    async ({ c, body, core }) => c.json(await core.query('labPlan', body)),
  );

  table.add(
    {
      operationId: 'applyLab',
      method: 'post',
      path: '/v1/labs',
      role: querySchemas.labApply.role,
      tag: 'labs',
      summary: 'Apply a lab file: a new lab is planned, gated as one unit and deployed; a live one gets the difference',
      description:
        '`file` is the lab file’s text (YAML or JSON; `fileName` ending in `.json` reads it as JSON). The answer ' +
        'comes once the lab is planned and gated: its `status` says where it went (`awaiting_approval`, `denied`, ' +
        'or a deploy step such as `networks`), its `decision`, `reasons` and `checks` why. The deploy runs on: ' +
        'follow it with GET /v1/labs/{name} or the events `overseer.evt.lab.<name>.<status>`. A file with ' +
        'problems, an unknown cluster, or a live lab that is not ready or failed is refused (400 naming the field; ' +
        'POST /v1/labs/plan lists every problem).',
      body: querySchemas.labApply.payload,
      success: {
        status: 202,
        description: 'The lab as its apply was decided (its work runs on); Location is its URL',
        schema: LabViewSchema,
      },
    },
    async ({ c, body, core }) => {
      const lab = await core.query('labApply', body);
      c.header('Location', `/v1/labs/${encodeURIComponent(lab.name)}?cluster=${encodeURIComponent(lab.cluster)}`);
      return c.json(lab, 202);
    },
  );

  table.add(
    {
      operationId: 'listLabs',
      method: 'get',
      path: '/v1/labs',
      role: querySchemas.labList.role,
      tag: 'labs',
      summary: 'Labs, newest first: the live ones, or all with ?live=false',
      query: LabListQuerySchema,
      success: {
        status: 200,
        description: 'A page of labs and the total matching',
        schema: querySchemas.labList.reply,
      },
    },
    async ({ c, query, core }) => c.json(await core.query('labList', query)),
  );

  table.add(
    {
      operationId: 'getLab',
      method: 'get',
      path: '/v1/labs/:name',
      role: querySchemas.lab.role,
      tag: 'labs',
      summary: 'One lab: its status, decision and checks, members and their phases, snapshots, failure, expiry',
      description:
        'A live lab of that name, else the newest ended one. When labs of that name run on two clusters, name the ' +
        'cluster (400 otherwise).',
      params: LabParamsSchema,
      query: LabQuerySchema,
      success: { status: 200, description: 'The lab', schema: LabViewSchema },
      errors: [404],
    },
    async ({ c, params, query, core }) => {
      const lab = await core.query('lab', { name: params.name, ...query });
      if (!lab) throw new NotFoundError(`no lab ${params.name}${where(query.cluster)}`);
      return c.json(lab);
    },
  );

  for (const act of ACTS) {
    table.add(
      {
        operationId: `${act.word}Lab`,
        method: 'post',
        path: `/v1/labs/:name/${act.word}`,
        role: act.role,
        tag: 'labs',
        summary: act.summary,
        description: `${act.description} A lab not in a state that allows this is refused (400, field \`name\`).`,
        params: LabParamsSchema,
        body: LabActBodySchema,
        bodyOptional: true,
        success: { status: 200, description: 'The lab as it now stands', schema: LabViewSchema },
        errors: [404],
      },
      async ({ c, params, body, core }) =>
        c.json(
          await onLab(core, params.name, body.cluster, () => core.query(act.query, { name: params.name, ...body })),
        ),
    );
  }

  for (const act of SNAPSHOT_ACTS) {
    table.add(
      {
        operationId: `${act.word}Lab`,
        method: 'post',
        path: `/v1/labs/:name/${act.word}`,
        role: querySchemas[act.query].role,
        tag: 'labs',
        summary: act.summary,
        description: `${act.description} Only a ready lab can be ${act.word === 'snapshot' ? 'snapshotted' : 'reverted'} (400, field \`name\`).`,
        params: LabParamsSchema,
        body: LabSnapshotBodySchema,
        success: { status: 200, description: 'The lab as it now stands', schema: LabViewSchema },
        errors: [404],
      },
      async ({ c, params, body, core }) =>
        c.json(
          await onLab(core, params.name, body.cluster, () => core.query(act.query, { name: params.name, ...body })),
        ),
    );
  }
}
