/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own report,
 * so any tool reading the end of the log sees the outcome.
 */
import type { Reporter, TestModule } from 'vitest/node'

export default class SummaryReporter implements Reporter {
  onTestRunEnd (testModules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const m of testModules) {
      let failedHere = 0
      for (const t of m.children.allTests()) {
        const s = t.result().state
        if (s === 'passed') passed++
        else if (s === 'failed') failedHere++
        else skipped++
      }
      // A file whose hooks or imports failed counts as a failure even if no test ran.
      failed += m.state() === 'failed' && failedHere === 0 ? 1 : failedHere
    }
    if (errors.length > 0) failed += errors.length
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
