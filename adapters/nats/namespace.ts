// An installation's namespace on a shared NATS server: `overseer.<subject>` travels as `overseer.<ns>.<subject>`,
// so two Overseer installations on one server never answer each other's requests. The NATS bus applies it on the
// way out and takes it off on the way in; everything above the bus keeps using protocol/subjects.ts unchanged.
import { InvalidSubjectError, SUBJECT_ROOT } from '../../protocol';

/** A namespace is one subject token: letters, digits, '-' and '_'. */
const NAMESPACE = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Tokens that follow `overseer.` in un-namespaced subjects: a namespace named like one of them would make its
 * subjects look like another installation's (`overseer.evt.req.submit` would match `overseer.evt.>`).
 */
const RESERVED = ['req', 'query', 'evt', 'actor', 'audit', 'record'];

/** Checks a namespace and returns it; throws InvalidSubjectError (part 'namespace') otherwise. */
export function assertNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new InvalidSubjectError(
      `invalid namespace '${String(namespace)}': one subject token of 1 to 64 letters, digits, '-' or '_'`,
      String(namespace),
      'namespace',
    );
  }
  if (RESERVED.includes(namespace)) {
    throw new InvalidSubjectError(
      `invalid namespace '${namespace}': ${RESERVED.map((r) => `'${r}'`).join(', ')} are Overseer's own subject tokens`,
      namespace,
      'namespace',
    );
  }
  return namespace;
}

const ROOT_PREFIX = `${SUBJECT_ROOT}.`;

/**
 * `overseer.req.submit` → `overseer.<ns>.req.submit` (filters too: `overseer.evt.>` → `overseer.<ns>.evt.>`).
 * Subjects outside `overseer.` (inboxes, `$JS.…`) and any subject when there is no namespace are unchanged.
 * `namespace` may be `*` to build a permission or filter that covers every namespace.
 */
export function toNamespace(subject: string, namespace: string | undefined): string {
  if (!namespace || !subject.startsWith(ROOT_PREFIX)) return subject;
  return `${ROOT_PREFIX}${namespace}.${subject.slice(ROOT_PREFIX.length)}`;
}

/** The reverse of toNamespace: `overseer.<ns>.evt.x` → `overseer.evt.x`; anything else is unchanged. */
export function fromNamespace(subject: string, namespace: string | undefined): string {
  if (!namespace) return subject;
  const prefix = `${ROOT_PREFIX}${namespace}.`;
  return subject.startsWith(prefix) ? `${ROOT_PREFIX}${subject.slice(prefix.length)}` : subject;
}

/** Every subject of one namespace (or of the un-namespaced installation): `overseer.>` / `overseer.<ns>.>`. */
export function everySubject(namespace: string | undefined): string {
  return toNamespace(`${ROOT_PREFIX}>`, namespace);
}

/**
 * The namespace of one Proxmox cluster's own subjects when several cores share the fleet (actors/core-router.ts):
 * only the core that owns the cluster answers them. `<ns>--<cluster>`, or `cluster--<cluster>` without a namespace.
 */
export function clusterNamespace(namespace: string | undefined, cluster: string): string {
  return assertNamespace(`${namespace ?? 'cluster'}--${cluster}`);
}
