// sync: reconcile with the platform now.
import { EXIT } from '../exit-codes';
import { json } from '../format';
import type { Command } from './types';

export const syncCommand: Command = {
  name: 'sync',
  usage: '',
  summary: 'Start a state sync with the platform now',
  args: 0,
  async run(ctx) {
    const answer = await ctx.client.post<{ started: boolean }>('/v1/sync');
    ctx.out(ctx.json ? json(answer) : 'sync started\n');
    return EXIT.ok;
  },
};
