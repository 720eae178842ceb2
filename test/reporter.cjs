// Mocha's spec reporter, plus the slowest test files (so the suite's time can be kept in check) and a last line in
// the plain form CI reads: "N passed, N failed, N skipped".
const path = require('node:path')
const Mocha = require('mocha')
const { EVENT_RUN_END, EVENT_TEST_END, EVENT_HOOK_END } = Mocha.Runner.constants

const SLOWEST = 12

class BerylReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    // Time per file: the sum of its tests' and hooks' durations (also right when files run in parallel workers).
    const perFile = new Map()
    const add = (runnable) => {
      const file = runnable.file ?? runnable.parent?.file
      if (file !== undefined && typeof runnable.duration === 'number') perFile.set(file, (perFile.get(file) ?? 0) + runnable.duration)
    }
    runner.on(EVENT_TEST_END, add)
    runner.on(EVENT_HOOK_END, add)
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats
      const rows = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, SLOWEST)
      if (rows.length > 1) {
        process.stdout.write(`\nslowest files (of ${perFile.size}; the run took ${Math.round(s.duration / 1000)} s):\n`)
        for (const [file, ms] of rows) {
          const rel = path.relative(process.cwd(), file)
          process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${rel}\n`)
        }
      }
      process.stdout.write(`\n${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`)
    })
  }
}
module.exports = BerylReporter
