// Mocha's spec reporter, plus a last line in the plain form CI reads: "N passed, N failed, N skipped".
const Mocha = require('mocha')
const { EVENT_RUN_END } = Mocha.Runner.constants

class BerylReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats
      process.stdout.write(`\n${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`)
    })
  }
}
module.exports = BerylReporter
