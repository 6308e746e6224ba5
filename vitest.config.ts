import { defineConfig } from 'vitest/config';

// Three groups, one after the other. Most files run two at a time (a file's time is mostly waiting on its servers and
// child processes; Vitest's default on 2 cores would be one). The load, SIGKILL, fault and cluster tests, whose bounds
// (lease hand-overs, retries within deadlines, kills under load) assume the machine is theirs, then run one at a time;
// the browser tests (a Chromium and a whole stack of their own) last, alone.
const shared = { testTimeout: 30_000, hookTimeout: 30_000, pool: 'forks' as const };
const exclusive = [
  'tests/resilience/**/*.test.ts',
  'tests/e2e/**/*.test.ts',
  'tests/nats/*cluster*.test.ts',
  'tests/platform/{crash,faults,lab-crash,operator-stop}.test.ts',
  'tests/runtime/crash.test.ts',
];

export default defineConfig({
  test: {
    // sshd, ssh-keygen, nats-server, openssl, chromium: installed once per run when missing (the dashboard built when
    // stale), or one line saying how.
    globalSetup: ['tests/setup/prerequisites.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'core',
          include: ['tests/**/*.test.ts', 'ui/tests/**/*.test.ts'],
          exclude: ['tests/browser/**', ...exclusive],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'exclusive',
          include: exclusive,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          // A suite's set-up launches Chromium, which tests/browser/chromium.ts tries up to three times.
          hookTimeout: 90_000,
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
