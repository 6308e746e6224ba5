// POST /v1/labs/plan: what applying a lab file would create, change or remove on its cluster, checked against the
// cluster as Overseer sees it now; nothing is done. A file with problems answers 200 with `ok: false` and every
// issue with its path (and line): it is a plan's answer, not a malformed call.
import { querySchemas } from '../../protocol';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

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
}
