// Every command, in the order help lists them.
import { auditCommand, auditVerifyCommand } from './audit';
import { backupsCommand } from './backups';
import { decideCommands } from './decide';
import { eventsCommand } from './events';
import { drainCommand, migrateCommand, undrainCommand } from './guests';
import { incidentActCommands, incidentCommand, incidentsCommand } from './incidents';
import { labCommands } from './labs';
import { maintenanceCommands } from './maintenance';
import { natsCredentialsCommand } from './nats-credentials';
import { hostsCommand, requestCommand, requestsCommand, statusCommand, vmCommand, vmsCommand } from './reads';
import { serveCommand } from './serve';
import { delsnapshotCommand, rollbackCommand, snapshotCommand, snapshotsCommand } from './snapshots';
import { deployCommand, vmActionCommands } from './submit';
import { syncCommand } from './sync';
import { tokenRecoverCommand } from './token-recover';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './tokens';
import type { Command } from './types';

export type { Command, CommandContext } from './types';

export const COMMANDS: readonly Command[] = [
  statusCommand,
  vmsCommand,
  vmCommand,
  hostsCommand,
  requestsCommand,
  requestCommand,
  deployCommand,
  ...vmActionCommands,
  migrateCommand,
  drainCommand,
  undrainCommand,
  snapshotCommand,
  snapshotsCommand,
  rollbackCommand,
  delsnapshotCommand,
  backupsCommand,
  ...labCommands,
  ...decideCommands,
  incidentsCommand,
  incidentCommand,
  ...incidentActCommands,
  ...maintenanceCommands,
  syncCommand,
  eventsCommand,
  natsCredentialsCommand,
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  tokenRecoverCommand,
  auditCommand,
  auditVerifyCommand,
  serveCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
