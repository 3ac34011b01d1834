import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,signing,db,demo,main,server,preload,renderer,integration,scripts}/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
