import { defineConfig } from 'vitest/config';

// Two tiers: unit tests (no I/O) and integration tests (real Redis, real processes).
// AW_TEST_TOPOLOGY=cluster runs the integration tier against a 3-master Redis Cluster.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{packages,services}/*/{src,test}/**/*.test.ts',
            'loadtest/**/*.test.ts',
            'deploy/test/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{packages,services}/*/test/**/*.int.test.ts', 'scripts/test/**/*.int.test.ts'],
          exclude: [
            '**/node_modules/**',
            '**/dist/**',
            // They pause, kill and restart a Redis of their own (a single one, a
            // Sentinel topology, a cluster with replicas, or the one `npm start`
            // runs): nothing to repeat on the cluster run.
            ...(process.env.AW_TEST_TOPOLOGY === 'cluster'
              ? [
                  '**/redis-restart.int.test.ts',
                  '**/redis-failover.int.test.ts',
                  '**/stop-under-redis-fault.int.test.ts',
                  'scripts/test/**',
                  // Measures one server's used_memory.
                  '**/run-memory.int.test.ts',
                  // The browser sees no topology; the stall job's script runs
                  // on the cluster in emit-stalls.int.test.ts, and its waits
                  // (silences of RUN_STALL_MS) would double CI time for nothing.
                  '**/demo.browser.int.test.ts',
                  '**/run-stalls.int.test.ts',
                ]
              : []),
          ],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
