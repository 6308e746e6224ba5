import { defineConfig } from 'vitest/config';

// Two groups, one after the other: the browser tests (a Chromium and a whole stack of their own) run last, alone,
// so that they never share the 2 cores with the load and SIGKILL tests, whose bounds assume the machine is theirs.
const shared = { testTimeout: 30_000, hookTimeout: 30_000, pool: 'forks' as const };

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
          exclude: ['tests/browser/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          // A suite's set-up launches Chromium, which tests/browser/chromium.ts tries up to three times.
          hookTimeout: 90_000,
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
