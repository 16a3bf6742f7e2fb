import { defineConfig } from 'vitest/config'

// One runner for unit, integration and e2e tests. Integration and e2e tests start real
// corestores, a loopback-only DHT testnet, daemons and Chromium, so they get long timeouts;
// none of them sleeps: they wait on events. Files run in separate processes, two at a time
// (this machine has two cores).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default', './test/summary-reporter.ts'],
    sequence: { concurrent: false }
  }
})
