import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadRunbooks,
  parseFrontMatter,
  parseRunbook,
  RunbookError,
  ruleApplies,
  SHIPPED_RUNBOOK_DIR,
} from '../../adapters/knowledge';
import { requestSpec, runbookDir, runbookText, vmInfo } from './helpers';

describe('runbooks', () => {
  it('runbooks - the shipped runbooks all load, each with a title and a condition or an action', () => {
    const { runbooks, problems } = loadRunbooks([]);
    expect(problems).toEqual([]);
    expect(runbooks.map((r) => r.id)).toEqual([
      'clone-failed',
      'crash-loop',
      'destroy-production',
      'guest-unreachable',
      'high-resource-use',
      'node-offline',
      'quorum-lost',
      'service-down',
      'storage-full',
      'unexpected-stop',
      'vm-locked',
      'vm-vanished',
    ]);
    for (const rb of runbooks) {
      expect(rb.title).not.toBe('');
      expect(rb.conditions.length + rb.actions.length).toBeGreaterThan(0);
      expect(path.dirname(rb.file)).toBe(SHIPPED_RUNBOOK_DIR);
      expect(rb.body).toMatch(/^# /);
    }
  });

  it('runbooks - front matter parses rules, matchers, lists and command remediations', () => {
    const { runbooks } = loadRunbooks([]);
    const locked = runbooks.find((r) => r.id === 'vm-locked')!;
    expect(locked.rule).toBe('warn');
    expect(locked.when).toEqual([{ key: 'lock', values: ['backup'], negate: false }]);
    expect(locked.conditions).toEqual(['vm-locked', 'vm-lock-stuck', 'lock-stuck']);
    expect(locked.remediation).toEqual({ kind: 'wait' });
    const service = runbooks.find((r) => r.id === 'service-down')!;
    expect(service.remediation).toEqual({ kind: 'command', command: 'systemctl restart nginx' });

    const rb = parseRunbook(
      runbookText([
        'id: custom',
        'title: "Custom: quoted, with colon"',
        'actions: [destroy, stop]',
        'rule: approval',
        'when: [tags: production|critical, name: web*, force: !true]',
      ]),
      'custom.md',
    );
    expect(rb.title).toBe('Custom: quoted, with colon');
    expect(rb.when).toEqual([
      { key: 'tags', values: ['production', 'critical'], negate: false },
      { key: 'name', values: ['web*'], negate: false },
      { key: 'force', values: ['true'], negate: true },
    ]);
  });

  it('runbooks - a broken runbook file is reported with its file and key, and skipped', () => {
    const dir = runbookDir({
      'good.md': runbookText(['id: good', 'title: Good one', 'conditions: [disk-slow]']),
      'bad-action.md': runbookText(['id: bad-action', 'title: Bad', 'actions: [destroy, explode]']),
      'bad-rule.md': runbookText(['id: bad-rule', 'title: Bad', 'actions: [stop]', 'rule: maybe']),
      'bad-when.md': runbookText(['id: bad-when', 'title: Bad', 'actions: [stop]', 'rule: deny', 'when: colour: red']),
      'no-title.md': runbookText(['id: no-title', 'conditions: [x]']),
      'no-front-matter.md': '# Just markdown\n',
      'unclosed.md': '---\nid: unclosed\ntitle: x\n',
      'unknown-key.md': runbookText(['id: typo', 'title: Typo', 'rules: deny']),
      'notes.txt': 'not a runbook',
      'README.md': '# How we write runbooks',
    });
    const { runbooks, problems } = loadRunbooks([dir], { includeShipped: false });
    expect(runbooks.map((r) => r.id)).toEqual(['good']);
    const byFile = Object.fromEntries(problems.map((p) => [path.basename(p.file), p]));
    expect(Object.keys(byFile).sort()).toEqual([
      'bad-action.md',
      'bad-rule.md',
      'bad-when.md',
      'no-front-matter.md',
      'no-title.md',
      'unclosed.md',
      'unknown-key.md',
    ]);
    for (const p of problems) {
      expect(p).toBeInstanceOf(RunbookError);
      expect(p.name).toBe('RunbookError');
      expect(p.message).toContain(p.file);
    }
    expect(byFile['bad-action.md']!.key).toBe('actions');
    expect(byFile['bad-action.md']!.message).toContain("'explode' is not an action");
    expect(byFile['bad-rule.md']!.key).toBe('rule');
    expect(byFile['bad-when.md']!.key).toBe('when.colour');
    expect(byFile['no-title.md']!.key).toBe('title');
    expect(byFile['no-title.md']!.message).toMatch(/no-title\.md: 'title' is missing$/);
    expect(byFile['no-front-matter.md']!.key).toBe('(file)');
    expect(byFile['unknown-key.md']!.key).toBe('rules');
  });

  it('runbooks - a rule must say which requests it applies to, and when needs a rule', () => {
    expect(() => parseRunbook(runbookText(['id: a', 'title: A', 'rule: deny']), 'a.md')).toThrow(
      expect.objectContaining({ key: 'rule' }),
    );
    expect(() => parseRunbook(runbookText(['id: b', 'title: B', 'when: tags: x']), 'b.md')).toThrow(
      expect.objectContaining({ key: 'when' }),
    );
    const ok = parseRunbook(runbookText(['id: c', 'title: C', 'rule: deny', 'when: action: destroy']), 'c.md');
    expect(ok.actions).toEqual([]);
  });

  it('runbooks - a user directory adds runbooks and replaces a shipped one by id; a missing directory is skipped', () => {
    const dir = runbookDir({
      'my-locked.md': runbookText(['id: vm-locked', 'title: Our lock policy', 'conditions: [vm-locked]']),
      'extra.md': runbookText(['id: extra', 'title: Extra', 'conditions: [extra-kind]']),
    });
    const { runbooks, problems, overridden } = loadRunbooks([dir, path.join(dir, 'does-not-exist')]);
    expect(problems).toEqual([]);
    expect(runbooks.find((r) => r.id === 'vm-locked')!.title).toBe('Our lock policy');
    expect(runbooks.some((r) => r.id === 'extra')).toBe(true);
    expect(overridden).toEqual([
      { id: 'vm-locked', file: path.join(SHIPPED_RUNBOOK_DIR, 'vm-locked.md'), by: path.join(dir, 'my-locked.md') },
    ]);
  });

  it('runbooks - two files with the same id in one directory: the second is reported', () => {
    const dir = runbookDir({
      'a.md': runbookText(['id: same', 'title: A', 'conditions: [x]']),
      'b.md': runbookText(['id: same', 'title: B', 'conditions: [x]']),
    });
    const { runbooks, problems } = loadRunbooks([dir], { includeShipped: false });
    expect(runbooks.map((r) => r.title)).toEqual(['A']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe('id');
  });

  it('front matter - a key given twice or a malformed line is a problem', () => {
    expect(parseFrontMatter('---\nid: a\nid: b\n---\n')).toMatchObject({ key: 'id' });
    expect(parseFrontMatter('---\njust words\n---\n')).toMatchObject({ line: 2 });
    const ok = parseFrontMatter('---\n# comment\nlist: [a, "b, c"]\n---\nbody');
    expect(ok).toEqual({ fields: new Map([['list', ['a', 'b, c']]]), body: 'body' });
  });
});

describe('runbook rules', () => {
  const rule = (when: string[], actions = '[stop, destroy]') =>
    parseRunbook(runbookText(['id: r', 'title: R', `actions: ${actions}`, 'rule: deny', ...when]), 'r.md');

  it('runbook rules - actions, wildcards, alternatives, negation and unknown VM facts', () => {
    const stop = requestSpec({ action: 'stop' });
    const vm = vmInfo({ name: 'web1', tags: ['production'], lock: 'backup' });
    expect(ruleApplies(rule([]), stop, undefined)).toBe(true);
    expect(ruleApplies(rule([]), requestSpec({ action: 'start' }), vm)).toBe(false);
    expect(ruleApplies(rule(['when: lock: *']), stop, vm)).toBe(true);
    expect(ruleApplies(rule(['when: lock: *']), stop, vmInfo())).toBe(false);
    expect(ruleApplies(rule(['when: name: web*, tags: staging|production']), stop, vm)).toBe(true);
    expect(ruleApplies(rule(['when: name: db*']), stop, vm)).toBe(false);
    expect(ruleApplies(rule(['when: tags: !production']), stop, vm)).toBe(false);
    expect(ruleApplies(rule(['when: tags: !production']), stop, undefined)).toBe(true);
    expect(ruleApplies(rule(['when: force: true']), requestSpec({ action: 'stop', force: true }), undefined)).toBe(
      true,
    );
    expect(
      ruleApplies(rule(['when: node: pve2']), requestSpec({ action: 'deploy', params: { node: 'pve2' } }), undefined),
    ).toBe(
      false, // deploy is not in actions
    );
    expect(
      ruleApplies(
        rule(['when: node: pve2'], '[deploy]'),
        requestSpec({ action: 'deploy', params: { node: 'pve2' } }),
        undefined,
      ),
    ).toBe(true);
  });
});
