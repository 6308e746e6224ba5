// The Overseer configuration: one validated JSON file, every key with a default. Unknown keys, wrong types and
// negative limits stop start-up with a message naming the key. Config keys are defined here and nowhere else.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { knowledgeConfigSchema } from '../adapters/knowledge/config';
import { notifyConfigSchema } from '../adapters/notify/config';
import type { MonitorThresholds, RemediationPolicyConfig } from '../machines/monitor';
import { CONDITION_KINDS, createDefaultMonitorThresholds } from '../machines/monitor';
import type { GateConfig } from '../machines/types';
import { issueMessage } from '../protocol';

const count = z.number().int().nonnegative();
const positive = z.number().int().positive();
const fraction = z.number().min(0).max(1);
const usage = z
  .strictObject({ warning: fraction, critical: fraction })
  .refine((u) => u.warning <= u.critical, 'warning must not be above critical');
/** Load per CPU is no fraction: a guest may run several times its CPU count. */
const loadUsage = z
  .strictObject({ warning: z.number().nonnegative(), critical: z.number().nonnegative() })
  .refine((u) => u.warning <= u.critical, 'warning must not be above critical');
/** A shell command run on a guest over SSH: one line, as the gate's schema check wants it. */
const shellCommand = z
  .string()
  .min(1)
  .max(1000)
  .refine((c) => c.trim() !== '' && !/[\0\r\n]/.test(c), 'must be one non-blank line without NUL');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be a name of letters, digits, _ and -');

const clusterSchema = z.strictObject({
  name,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(8006),
  protocol: z.enum(['https', 'http']).default('https'),
  auth: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('token'),
      tokenId: z.string().regex(/^[^@\s]+@[^!\s]+![A-Za-z0-9_.-]+$/, 'must look like user@realm!tokenname'),
      secret: z
        .string()
        .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase UUID'),
    }),
    z.strictObject({ type: z.literal('ticket'), username: z.string().min(1), password: z.string().min(1) }),
  ]),
  tls: z
    .strictObject({
      ca: z.string().optional(),
      caFile: z.string().optional(),
      fingerprint: z
        .string()
        .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint AA:BB:...')
        .optional(),
      insecure: z.boolean().default(false),
    })
    .prefault({}),
  timeoutMs: positive.default(15_000),
  taskPollMs: positive.default(1_000),
});

const gateSchema = z
  .strictObject({
    production: z
      .strictObject({
        tags: z.array(z.string().min(1)).default(['production']),
        vms: z.array(z.string().regex(/^[^/\s]+\/\d+$/, 'must be <cluster>/<vmid>')).default([]),
        requireApproval: z.boolean().default(true),
      })
      .prefault({}),
    massOperation: z
      .strictObject({
        maxVmsPerRequest: count.default(10),
        maxDestructivePerWindow: count.default(3),
        windowSeconds: positive.default(600),
        onExceed: z.enum(['deny', 'approval']).default('approval'),
      })
      .prefault({}),
    deploy: z.strictObject({ maxCount: positive.default(10), maxVmsPerCluster: positive.default(500) }).prefault({}),
    capacity: z
      .strictObject({
        memReserveFraction: fraction.default(0.1),
        diskReserveFraction: fraction.default(0.1),
        maxCpuLoad: fraction.default(0.9),
      })
      .prefault({}),
    ha: z.enum(['deny', 'approval']).default('deny'),
    /** The only commands a `command` request (a person's or a remediation's) may run over SSH, exact strings. */
    commands: z.strictObject({ allowed: z.array(shellCommand).default([]) }).prefault({}),
    /** Destroy and rollback need a backup newer than maxAgeHours (of guests with `tag`, or of all guests). */
    backup: z
      .array(z.strictObject({ tag: z.string().min(1).optional(), maxAgeHours: z.number().positive() }))
      .default([]),
    approvalTimeoutSeconds: positive.default(3600),
  })
  .prefault({});

/** A snapshot retention rule: of the snapshots named `<prefix>...` of the guests it covers, keep the newest `keep`. */
const retentionRule = z
  .strictObject({
    tag: z.string().min(1).optional(),
    vm: z
      .string()
      .regex(/^[^/\s]+\/\d+$/, 'must be <cluster>/<vmid>')
      .optional(),
    keep: positive,
    /** Only snapshots whose name starts with this are the rule's (a person's own snapshots are never touched). */
    prefix: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must start a snapshot name'),
  })
  .refine((r) => (r.tag === undefined) !== (r.vm === undefined), 'must name exactly one of tag or vm');

export const configSchema = z
  .strictObject({
    clusters: z.array(clusterSchema).default([]),
    /**
     * Several cores sharing the clusters over a NATS cluster (docs/multi-core.md). Absent: this one core owns every
     * cluster, as the embedded default does. `id` may come from OVERSEER_CORE_ID instead.
     */
    cores: z
      .strictObject({
        id: name.optional(),
        /** How long a core's ownership of a cluster lasts without a renewal (issue 15: at most 5 s by default). */
        leaseSeconds: z.number().min(1).max(60).default(5),
        /** Copies JetStream keeps of the leases and the record: 3 on a three-server cluster. */
        replicas: z.number().int().min(1).max(5).default(3),
      })
      .optional(),
    gate: gateSchema,
    loops: z
      .strictObject({
        syncIntervalSeconds: positive.default(10),
        monitorIntervalSeconds: positive.default(5),
        healthIntervalSeconds: positive.default(30),
      })
      .prefault({}),
    execution: z
      .strictObject({
        perNodeConcurrency: positive.default(2),
        taskTimeoutSeconds: positive.default(900),
        /** Members of one bulk request (a selector's, a drain's) running at once. */
        bulkConcurrency: positive.default(4),
        /** How long an approved request waits for a running backup to release its guest before it fails. */
        backupWaitSeconds: positive.default(4 * 3600),
      })
      .prefault({}),
    snapshots: z
      .strictObject({ retention: z.array(retentionRule).default([]), retentionIntervalSeconds: positive.default(3600) })
      .prefault({}),
    supervision: z.strictObject({ maxRestarts: count.default(3), withinSeconds: positive.default(60) }).prefault({}),
    hosts: z
      .strictObject({
        cpuThreshold: fraction.default(0.9),
        memThreshold: fraction.default(0.95),
        offlineGraceSeconds: count.default(60),
      })
      .prefault({}),
    state: z.strictObject({ synchronous: z.enum(['normal', 'full']).default('normal') }).prefault({}),
    /** The audit chain's key (a file outside the database; default $OVERSEER_DATA_DIR/audit.key) and checkpoints. */
    audit: z
      .strictObject({ keyFile: z.string().min(1).optional(), checkpointIntervalSeconds: positive.default(60) })
      .prefault({}),
    monitor: z
      .strictObject({
        crashLoopStops: positive.default(3),
        crashLoopWindowSeconds: positive.default(600),
        lockMaxSeconds: positive.default(1800),
        /** A backup holds its guest's lock for as long as it runs: only this long is worth a warning. */
        backupLockMaxSeconds: positive.default(12 * 3600),
        taskMaxSeconds: positive.default(3600),
        requestExecutingMaxSeconds: positive.default(1800),
        unreachableAfter: positive.default(2),
        hostCpu: usage.default({ warning: 0.9, critical: 0.98 }),
        hostMem: usage.default({ warning: 0.9, critical: 0.97 }),
        hostDisk: usage.default({ warning: 0.85, critical: 0.95 }),
        guestDisk: usage.default({ warning: 0.85, critical: 0.95 }),
        guestLoadPerCpu: loadUsage.default({ warning: 2, critical: 4 }),
      })
      .prefault({}),
    remediation: z
      .strictObject({
        restart: z.strictObject({ maxRestarts: count.default(3), withinSeconds: positive.default(600) }).prefault({}),
        allowProduction: z.boolean().default(false),
        unreachableBeforeReboot: positive.default(3),
        /** A command per condition kind, run as a gated request; each must be in gate.commands.allowed. */
        commands: z.partialRecord(z.enum(CONDITION_KINDS), shellCommand).default({}),
        escalate: z.array(z.enum(CONDITION_KINDS)).default(['vm-crash-loop', 'guest-host-key-changed']),
      })
      .prefault({}),
    notifications: notifyConfigSchema,
    knowledge: knowledgeConfigSchema,
    ssh: z
      .strictObject({
        intervalSeconds: positive.default(60),
        /** Pinned host keys are kept here (JSON); a changed key is an incident, never accepted. */
        knownHostsFile: z.string().optional(),
        /** Record a host key on first contact when a target has no pin (trust on first use). Off by default. */
        trustOnFirstUse: z.boolean().default(false),
        targets: z
          .array(
            z.strictObject({
              vm: z.string().regex(/^[^/\s]+\/\d+$/, 'must be <cluster>/<vmid>'),
              host: z.string().min(1),
              port: z.number().int().min(1).max(65535).default(22),
              username: z.string().min(1),
              privateKeyFile: z.string().min(1),
              hostKey: z
                .string()
                .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be SHA256:<base64>')
                .optional(),
              units: z.array(z.string().min(1)).default([]),
            }),
          )
          .default([]),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.cores && config.clusters.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['cores'],
        message: 'needs at least one cluster in clusters: several cores share real clusters, not the embedded demo',
      });
    }
    // A remediation command the gate would refuse is a configuration error, not a denial at 3 a.m.
    const allowed = new Set(config.gate?.commands?.allowed ?? []);
    for (const [kind, command] of Object.entries(config.remediation?.commands ?? {})) {
      if (command === undefined || allowed.has(command)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['remediation', 'commands', kind],
        message: `is ${JSON.stringify(command)}, which is not in gate.commands.allowed`,
      });
    }
  });

/** The monitor's thresholds from the config (fractions and milliseconds). */
export function monitorThresholdsOf(config: OverseerConfig): MonitorThresholds {
  const m = config.monitor;
  return {
    ...createDefaultMonitorThresholds(),
    hostCpu: m.hostCpu,
    hostMem: m.hostMem,
    hostDisk: m.hostDisk,
    guestDisk: m.guestDisk,
    guestLoadPerCpu: m.guestLoadPerCpu,
    crashLoopStops: m.crashLoopStops,
    crashLoopWindowMs: m.crashLoopWindowSeconds * 1000,
    lockMaxMs: m.lockMaxSeconds * 1000,
    backupLockMaxMs: m.backupLockMaxSeconds * 1000,
    taskMaxMs: m.taskMaxSeconds * 1000,
    requestExecutingMaxMs: m.requestExecutingMaxSeconds * 1000,
    unreachableAfter: m.unreachableAfter,
  };
}

export function remediationPolicyOf(config: OverseerConfig): RemediationPolicyConfig {
  return { ...config.remediation };
}

export type OverseerConfig = z.infer<typeof configSchema>;
export type ClusterConfig = OverseerConfig['clusters'][number];

/** Bad configuration: names the key and what is wrong with it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function keyOf(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
      .join('.')
      .replace(/\.\[/g, '[') || '(root)'
  );
}

/** Validates a parsed config object; throws ConfigError naming the first bad key. */
export function parseConfig(raw: unknown, source = 'config'): OverseerConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ConfigError(`${source}: invalid configuration`, '(root)');
  if (issue.code === 'unrecognized_keys') {
    const key = keyOf([...issue.path, issue.keys[0] ?? '']);
    throw new ConfigError(`${source}: unknown key '${key}'`, key);
  }
  const key = keyOf(issue.path);
  const message = issueMessage(issue);
  throw new ConfigError(`${source}: '${key}' ${message === 'required' ? 'is required' : message}`, key);
}

/** Reads and validates a JSON config file. A missing file is an error only when it was asked for explicitly. */
export function loadConfig(path: string | undefined): OverseerConfig {
  if (!path) return parseConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${path}: cannot read the config file`, '(file)', { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path}: not valid JSON (${(cause as Error).message})`, '(file)', { cause });
  }
  return parseConfig(raw, path);
}

/** The gate's view of the configuration. */
export function gateConfigOf(config: OverseerConfig): GateConfig {
  return config.gate;
}
