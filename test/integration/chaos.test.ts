import assert from 'node:assert/strict'
import { formatReport, runChaos } from '../chaos/chaos.ts'

// A minute and a half of test/chaos/chaos.ts, a fault about every 20 s (`npm run chaos -- --minutes 10` runs longer).
describe('chaos: 4 validators, 3 workers and a task-creating app while validators are killed, frozen and restarted', function () {
  this.timeout(900_000)

  it('the chain stays live; app hashes agree at every height; supply is conserved; no tx is applied twice or lost; no task is left past its deadline', async () => {
    const r = await runChaos({ minutes: 1.5, faultEveryMs: 10_000, seed: 7 })
    console.log(formatReport(r).replace(/^/gm, '      '))
    assert.ok(r.faults.length >= 4, `only ${r.faults.length} faults`)
    assert.equal(r.stalls, 0, 'the chain stopped during a fault of one validator')
    assert.equal(r.divergences, 0)
    assert.equal(r.supply.end, r.supply.start)
    assert.equal(r.supply.sumOfBalances, r.supply.end)
    assert.equal(r.sequences.missing, 0)
    assert.equal(r.sequences.duplicated, 0)
    assert.ok(r.sequences.txs > 0)
    assert.ok(r.tasks.created > 0 && r.tasks.finished > 0, 'tasks were created and finished under faults')
    assert.equal(r.tasks.overdue, 0, 'a task is past its deadline without a terminal status')
  })
})
