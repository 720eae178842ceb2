// The report's verdict grid: the table the README shows, built from the cells (no run needed).
import assert from 'node:assert/strict'
import { type Cell, verdictGrid } from '../../../sim/report.ts'

const est = (mean: number, lo: number, hi: number, n = 3) => ({ mean, lo, hi, n })
const zero = est(0, 0, 0)
function cell(adversary: string, share: number, fee: number, excess: ReturnType<typeof est>, honestSlashes = zero): Cell {
  const v = excess.lo > 0 ? 'pays' : excess.hi < 0 ? 'does not pay' : 'break-even'
  return {
    preset: 'beryl',
    adversary,
    share,
    fee,
    seeds: 3,
    profitPerTask: excess,
    excessPerTask: adversary === 'none' ? undefined : excess,
    profitPerCapital: zero,
    verdict: v,
    honestSlashes,
    honestProfitPerTask: zero,
    latencyP50: zero,
    latencyP95: zero,
    throughputPerHour: zero,
    validatedShare: zero,
    txsPerTask: zero,
    attempts: {},
  }
}

describe('sim report: the verdict grid', () => {
  it('one row per strategy, a column per share, the fees in order in each cell; ≈ carries the sign of the mean, † an honest slash', () => {
    const cells = [
      cell('none', 0, 1, est(3, 1, 5)),
      cell('none', 0, 400, est(-2, -9, 5)),
      cell('lazy', 0.1, 1, est(-4, -6, -2)),
      cell('lazy', 0.1, 400, est(7, -60, 80)),
      cell('lazy', 0.33, 1, est(-1, -3, 1), est(0.5, -0.5, 1.5)),
      cell('lazy', 0.33, 400, est(9, 2, 16)),
    ]
    assert.deepEqual(verdictGrid(cells), [
      '**beryl** (fees 1 / 400 BERYL in each column)',
      '',
      '| strategy | 10% | 33% |',
      '|---|---|---|',
      '| none (honest work) | pays / ≈− | pays / ≈− |',
      '| lazy | no / ≈+ | ≈−† / pays |',
      '',
    ])
  })
})
