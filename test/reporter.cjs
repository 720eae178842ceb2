// Mocha's spec reporter, plus the slowest test files (so the suite's time can be kept in check) and a last line in
// the plain form CI reads: "N passed, N failed, N skipped".
const path = require('node:path')
const Mocha = require('mocha')
const { EVENT_RUN_END, EVENT_RUN_BEGIN } = Mocha.Runner.constants

const SLOWEST = 12

class BerylReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    // Time per file: the wall time from one file's first test or hook to the next file's.
    const perFile = new Map()
    let current = undefined
    let since = 0
    const mark = (runnable) => {
      const file = runnable.file ?? runnable.parent?.file
      if (file === undefined || file === current) return
      const now = Date.now()
      if (current !== undefined) perFile.set(current, (perFile.get(current) ?? 0) + (now - since))
      current = file
      since = now
    }
    runner.once(EVENT_RUN_BEGIN, () => (since = Date.now()))
    runner.on('hook', mark)
    runner.on('test', mark)
    runner.once(EVENT_RUN_END, () => {
      if (current !== undefined) perFile.set(current, (perFile.get(current) ?? 0) + (Date.now() - since))
      const s = runner.stats
      const rows = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, SLOWEST)
      if (rows.length > 1) {
        process.stdout.write(`\nslowest files (of ${perFile.size}, ${Math.round(s.duration / 1000)} s in all):\n`)
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
