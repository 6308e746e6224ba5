import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'ui/tests/**/*.test.ts'],
    // sshd, ssh-keygen, nats-server, openssl: installed once per run when missing, or one line saying how.
    globalSetup: ['tests/setup/prerequisites.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
