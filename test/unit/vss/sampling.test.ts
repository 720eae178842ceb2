import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import {
  DEFAULT_DISHONEST_SHARE,
  DEFAULT_MIN_RATE,
  DEFAULT_MIN_STAKE,
  PROFIT_SCALE,
  RATE_SCALE,
  SamplingError,
  UBERYL_PER_BERYL,
  attackerMajorityFraction,
  attackerMajorityProbability,
  dishonestNodeCount,
  expectedAttackerProfit,
  isSelectedForValidation,
  maxSecurableFee,
  samplingRate,
  selectionThreshold,
} from '../../../modules/vss/sampling.ts'

const S = RATE_SCALE
const BERYL = UBERYL_PER_BERYL

/** beta (64 bytes, big-endian) from an integer in [0, 2^512). */
function betaFromInt(n: bigint): Uint8Array {
  const out = new Uint8Array(64)
  let v = n
  for (let i = 63; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  assert.equal(v, 0n)
  return out
}

function expectSamplingError(fn: () => unknown, code: SamplingError['code']): void {
  assert.throws(fn, (e: unknown) => e instanceof SamplingError && e.code === code)
}

// Fees from 1 uberyl to 10^6 BERYL (10^12 uberyl): 1, 2, 5 per decade.
const FEES: bigint[] = []
for (let decade = 1n; decade <= 10n ** 12n; decade *= 10n) {
  for (const m of [1n, 2n, 5n]) if (m * decade <= 10n ** 12n) FEES.push(m * decade)
}
// Every network size 3..120, then a sparse sweep up to 10 000.
const SIZES: bigint[] = []
for (let n = 3n; n <= 120n; n++) SIZES.push(n)
for (const n of [127n, 150n, 199n, 200n, 201n, 333n, 500n, 999n, 1000n, 1001n, 1100n, 2500n, 5000n, 9999n, 10000n]) SIZES.push(n)

describe('vss/sampling: fee-adaptive sampling rate', () => {
  describe('p(h,d)', () => {
    it('is the hypergeometric P(>= 2 of 3) of seed 001 / crynux.md §6.4, by enumeration for small networks', () => {
      // Independent check: enumerate every 3-subset of h + d nodes.
      for (let n = 3; n <= 12; n++) {
        for (let d = 0; d <= n; d++) {
          let hits = 0
          let total = 0
          for (let a = 0; a < n; a++)
            for (let b = a + 1; b < n; b++)
              for (let c = b + 1; c < n; c++) {
                total++
                // nodes 0..d-1 are the attacker's
                if ((a < d ? 1 : 0) + (b < d ? 1 : 0) + (c < d ? 1 : 0) >= 2) hits++
              }
          const { num, den } = attackerMajorityFraction(BigInt(n - d), BigInt(d))
          assert.equal(num * BigInt(total), BigInt(hits) * den, `n=${n} d=${d}`)
        }
      }
    })

    it('matches crynux.md §6.4 worked examples', () => {
      const p1 = attackerMajorityProbability(1000n, 100n)
      assert.ok(p1 > (231n * S) / 10000n - S / 10000n && p1 < (231n * S) / 10000n + S / 10000n) // 0.0231
      const p2 = attackerMajorityProbability(1000n, 333n)
      assert.ok(p2 > (1558n * S) / 10000n - S / 10000n && p2 < (1558n * S) / 10000n + S / 10000n) // 0.1558
    })

    it('is rounded up: the fixed-point p is the least value >= the exact fraction', () => {
      for (const [h, d] of [[1000n, 100n], [9n, 2n], [7n, 3n], [9000n, 1000n], [2n, 1n], [0n, 3n], [3n, 0n]] as const) {
        const { num, den } = attackerMajorityFraction(h, d)
        const p = attackerMajorityProbability(h, d)
        assert.ok(p * den >= num * S, `h=${h} d=${d}: p >= exact`)
        assert.ok((p - 1n) * den < num * S || p === 0n, `h=${h} d=${d}: p - 1 < exact`)
      }
      assert.equal(attackerMajorityProbability(3n, 0n), 0n)
      assert.equal(attackerMajorityProbability(0n, 3n), S)
      assert.equal(attackerMajorityProbability(10n, 1n), 0n) // one node can never hold 2 seats
    })

    it('agrees with an independent floating-point evaluation (test-only cross-check)', () => {
      for (const n of SIZES) {
        const d = dishonestNodeCount(n, DEFAULT_DISHONEST_SHARE)
        const h = n - d
        const [hf, df] = [Number(h), Number(d)]
        const c2 = (x: number) => (x * (x - 1)) / 2
        const c3 = (x: number) => (x * (x - 1) * (x - 2)) / 6
        const pf = (c2(df) * hf + c3(df)) / c3(hf + df)
        const p = Number(attackerMajorityProbability(h, d)) / 1e18
        assert.ok(Math.abs(p - pf) <= 1e-12, `n=${n}: fixed ${p} vs float ${pf}`)
      }
    })

    it('is non-decreasing in d for fixed n (justifies rounding d up)', () => {
      for (const n of [3n, 10n, 57n, 1000n]) {
        let prev = -1n
        for (let d = 0n; d <= n; d++) {
          const p = attackerMajorityProbability(n - d, d)
          assert.ok(p >= prev, `n=${n} d=${d}`)
          prev = p
        }
      }
    })

    it('d = ceil(share · n)', () => {
      assert.equal(dishonestNodeCount(3n, DEFAULT_DISHONEST_SHARE), 1n)
      assert.equal(dishonestNodeCount(10n, DEFAULT_DISHONEST_SHARE), 1n)
      assert.equal(dishonestNodeCount(11n, DEFAULT_DISHONEST_SHARE), 2n)
      assert.equal(dishonestNodeCount(1000n, DEFAULT_DISHONEST_SHARE), 100n)
      assert.equal(dishonestNodeCount(1001n, DEFAULT_DISHONEST_SHARE), 101n)
      assert.equal(dishonestNodeCount(1000n, 0n), 0n)
      assert.equal(dishonestNodeCount(1000n, S), 1000n)
    })
  })

  describe('samplingRate', () => {
    it('E <= 0 for every accepted task over fees 1 uberyl..10^6 BERYL and networks 3..10 000', () => {
      let accepted = 0
      let rejected = 0
      for (const n of SIZES) {
        for (const fee of FEES) {
          let res
          try {
            res = samplingRate({ fee, minStake: DEFAULT_MIN_STAKE, eligibleNodes: n })
          } catch (e) {
            assert.ok(e instanceof SamplingError && e.code === 'FEE_NOT_SECURABLE', String(e))
            // Rejection only where it is necessary: even r = 1 leaves E > 0.
            const p = attackerMajorityProbability(n - dishonestNodeCount(n, DEFAULT_DISHONEST_SHARE), dishonestNodeCount(n, DEFAULT_DISHONEST_SHARE))
            assert.ok(expectedAttackerProfit(fee, DEFAULT_MIN_STAKE, p, S) > 0n, `n=${n} fee=${fee}`)
            rejected++
            continue
          }
          accepted++
          const { rate, p, expectedProfit } = res
          assert.ok(rate >= DEFAULT_MIN_RATE && rate <= S)
          assert.equal(expectedProfit, expectedAttackerProfit(fee, DEFAULT_MIN_STAKE, p, rate))
          assert.ok(expectedProfit <= 0n, `n=${n} fee=${fee}: E=${expectedProfit}`)
          // Tight: one fixed-point step less and the attack would pay (unless r_min binds).
          if (rate > DEFAULT_MIN_RATE) {
            assert.ok(expectedAttackerProfit(fee, DEFAULT_MIN_STAKE, p, rate - 1n) > 0n, `n=${n} fee=${fee}: not minimal`)
          }
          // Float cross-check of the formula (test only): r ≈ max(r_min, k/((1-p)(s+k))).
          const pf = Number(p) / 1e18
          const rf = Math.max(0.01, Number(fee) / ((1 - pf) * Number(DEFAULT_MIN_STAKE + fee)))
          assert.ok(Math.abs(Number(rate) / 1e18 - rf) <= 1e-9 * Math.max(1, rf), `n=${n} fee=${fee}`)
        }
      }
      assert.ok(accepted > 3000 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`)
    })

    it('holds for other stakes, shares and floors too', () => {
      for (const minStake of [1n, 10n * BERYL, 400n * BERYL, 100000n * BERYL]) {
        for (const dishonestShare of [0n, S / 100n, S / 3n, S / 2n]) {
          for (const minRate of [0n, S / 1000n, S / 10n]) {
            for (const n of [3n, 4n, 7n, 20n, 101n, 5000n]) {
              for (const fee of [0n, 1n, 3n * BERYL, 999n * BERYL, 10n ** 12n]) {
                try {
                  const r = samplingRate({ fee, minStake, eligibleNodes: n, dishonestShare, minRate })
                  assert.ok(r.expectedProfit <= 0n)
                  assert.ok(r.rate >= minRate && r.rate <= S)
                } catch (e) {
                  assert.ok(e instanceof SamplingError && e.code === 'FEE_NOT_SECURABLE', String(e))
                }
              }
            }
          }
        }
      }
    })

    it('r_min is the floor for cheap tasks', () => {
      const r = samplingRate({ fee: 1n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 1000n })
      assert.equal(r.rate, DEFAULT_MIN_RATE)
      assert.ok(r.expectedProfit < 0n)
      assert.equal(samplingRate({ fee: 0n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 3n }).rate, DEFAULT_MIN_RATE)
      // ...and it can be configured.
      assert.equal(samplingRate({ fee: 1n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 1000n, minRate: S / 20n }).rate, S / 20n)
    })

    it('r rises above r_min once the fee needs it', () => {
      const r = samplingRate({ fee: 100n * BERYL, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 1000n })
      assert.ok(r.rate > DEFAULT_MIN_RATE)
    })

    it('r approaches 1 at the largest securable fee, rejection one uberyl above', () => {
      const n = 1000n
      const d = dishonestNodeCount(n, DEFAULT_DISHONEST_SHARE)
      const p = attackerMajorityProbability(n - d, d)
      const cap = maxSecurableFee(DEFAULT_MIN_STAKE, p)
      assert.ok(cap !== null)
      const atCap = samplingRate({ fee: cap, minStake: DEFAULT_MIN_STAKE, eligibleNodes: n })
      assert.ok(atCap.rate <= S && atCap.rate > S - S / 10n ** 9n && atCap.expectedProfit <= 0n)
      expectSamplingError(() => samplingRate({ fee: cap + 1n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: n }), 'FEE_NOT_SECURABLE')
      // A stake of 0 with p = 0 makes r = k/k = 1 exactly: the cap is reached, not exceeded.
      const full = samplingRate({ fee: 5n, minStake: 0n, eligibleNodes: 3n })
      assert.equal(full.rate, S)
      assert.ok(full.expectedProfit <= 0n)
      // p = 0 networks (d = 1) have no fee limit.
      assert.equal(maxSecurableFee(DEFAULT_MIN_STAKE, 0n), null)
      assert.ok(samplingRate({ fee: 10n ** 12n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 10n }).rate < S)
    })

    it('a certain attacker majority (share 100%) cannot be secured', () => {
      expectSamplingError(
        () => samplingRate({ fee: 1n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 50n, dishonestShare: S }),
        'FEE_NOT_SECURABLE',
      )
    })

    it('fewer than 3 eligible nodes is an error', () => {
      for (const n of [0n, 1n, 2n]) {
        expectSamplingError(() => samplingRate({ fee: BERYL, minStake: DEFAULT_MIN_STAKE, eligibleNodes: n }), 'TOO_FEW_ELIGIBLE_NODES')
      }
      assert.throws(
        () => samplingRate({ fee: BERYL, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 2n }),
        /validation group needs 3/,
      )
      expectSamplingError(() => attackerMajorityProbability(1n, 1n), 'TOO_FEW_ELIGIBLE_NODES')
    })

    it('rejects invalid arguments with a typed error', () => {
      const ok = { fee: BERYL, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 10n }
      const bad: Array<Record<string, unknown>> = [
        { ...ok, fee: -1n },
        { ...ok, fee: 1 },
        { ...ok, fee: 1.5 },
        { ...ok, minStake: -1n },
        { ...ok, eligibleNodes: 10 },
        { ...ok, eligibleNodes: -5n },
        { ...ok, dishonestShare: S + 1n },
        { ...ok, dishonestShare: -1n },
        { ...ok, minRate: S + 1n },
        { ...ok, minRate: 0.01 },
      ]
      for (const params of bad) {
        expectSamplingError(() => samplingRate(params as never), 'INVALID_ARGUMENT')
      }
      expectSamplingError(() => samplingRate(null as never), 'INVALID_ARGUMENT')
    })

    it('is deterministic: same inputs, same outputs', () => {
      const params = { fee: 123_456_789n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 777n }
      const a = samplingRate(params)
      const b = samplingRate({ ...params })
      assert.deepEqual(a, b)
      assert.equal(a.rate, samplingRate(params).rate)
    })

    it('uses no floating point, clocks or randomness in the module source', () => {
      const src = readFileSync(new URL('../../../modules/vss/sampling.ts', import.meta.url), 'utf8')
      for (const banned of [/\bMath\./, /\bDate\b/, /parseFloat/, /\bNumber\(/, /toLocale/, /toFixed/, /crypto/]) {
        assert.ok(!banned.test(src), `sampling.ts contains ${banned}`)
      }
    })
  })

  describe('expectedAttackerProfit', () => {
    it('equals k·S² − r·(S − p)·(k + s), the form samplingRate solves', () => {
      for (const [k, s, p, r] of [
        [BERYL, DEFAULT_MIN_STAKE, S / 40n, S / 100n],
        [10n ** 12n, 1n, S - 1n, S],
        [0n, DEFAULT_MIN_STAKE, 0n, 0n],
        [7n, 3n, 123456789n, 987654321n],
      ] as const) {
        assert.equal(expectedAttackerProfit(k, s, p, r), k * S * S - r * (S - p) * (k + s))
      }
    })

    it('no sampling (r = 0) pays the attacker the whole fee', () => {
      assert.equal(expectedAttackerProfit(5n * BERYL, DEFAULT_MIN_STAKE, S / 10n, 0n), 5n * BERYL * PROFIT_SCALE)
    })

    it("Crynux's fixed 1% is profitable to attack above ~3.95 CNX (h=1000, d=100, s=400)", () => {
      // The reason the rate is fee-adaptive: crynux.md §6.4 notes a 400 stake
      // covers only tasks up to about 3.9 CNX at r = 1%, while the bridge's
      // default LLM fee is 5 CNX and SD-finetune 15 CNX.
      const p = attackerMajorityProbability(1000n, 100n)
      const r = S / 100n
      const s = DEFAULT_MIN_STAKE
      // Largest fee with E <= 0 at this fixed r: k·(S² − r(S−p)) <= r(S−p)·s.
      const breakEven = (r * (S - p) * s) / (S * S - r * (S - p))
      assert.ok(breakEven > 3_940_000n && breakEven < 3_950_000n, `break-even ${breakEven} uberyl`)
      assert.ok(expectedAttackerProfit(breakEven, s, p, r) <= 0n)
      assert.ok(expectedAttackerProfit(breakEven + 1n, s, p, r) > 0n)
      for (const fee of [4n * BERYL, 5n * BERYL, 15n * BERYL, 100n * BERYL]) {
        assert.ok(expectedAttackerProfit(fee, s, p, r) > 0n, `fee ${fee}`)
        // Beryl's rate for the same task and network makes it unprofitable.
        const adaptive = samplingRate({ fee, minStake: s, eligibleNodes: 1100n, dishonestShare: (100n * S) / 1100n })
        assert.equal(adaptive.p, p)
        assert.ok(adaptive.rate > r && adaptive.expectedProfit <= 0n)
      }
    })
  })

  describe('isSelectedForValidation', () => {
    const TWO_512 = 1n << 512n

    it('beta just below r·2^512 is selected, beta at the threshold is not', () => {
      for (const rate of [1n, DEFAULT_MIN_RATE, S / 3n, (S * 2n) / 3n, S - 1n]) {
        const t = selectionThreshold(rate)
        // t = ceil(r · 2^512 / S): the first integer with t/2^512 >= r.
        assert.ok(t * S >= rate * TWO_512 && (t - 1n) * S < rate * TWO_512)
        assert.equal(isSelectedForValidation(betaFromInt(t - 1n), rate), true, `rate ${rate}`)
        assert.equal(isSelectedForValidation(betaFromInt(t), rate), false, `rate ${rate}`)
      }
    })

    it('exact boundary: r = 1/100 and beta = 2^512/100 rounded', () => {
      // 2^512 is not divisible by 100; the threshold is its ceiling.
      const t = (TWO_512 + 99n) / 100n
      assert.equal(selectionThreshold(S / 100n), t)
      assert.equal(isSelectedForValidation(betaFromInt(t - 1n), S / 100n), true)
      assert.equal(isSelectedForValidation(betaFromInt(t), S / 100n), false)
    })

    it('reads beta big-endian', () => {
      // 0x00..01 is tiny (selected at any r > 0); 0x01 00..00 is 2^504 (u = 2^-8 ≈ 0.0039).
      const low = new Uint8Array(64)
      low[63] = 1
      const high = new Uint8Array(64)
      high[0] = 1
      assert.equal(isSelectedForValidation(low, 1n), true)
      assert.equal(isSelectedForValidation(high, DEFAULT_MIN_RATE), true) // 0.0039 < 0.01
      assert.equal(isSelectedForValidation(high, S / 1000n), false) // 0.0039 >= 0.001
    })

    it('r = 1 selects every beta, r = 0 none', () => {
      const max = new Uint8Array(64).fill(0xff)
      const zero = new Uint8Array(64)
      assert.equal(isSelectedForValidation(max, S), true)
      assert.equal(isSelectedForValidation(zero, S), true)
      assert.equal(isSelectedForValidation(zero, 0n), false)
      assert.equal(isSelectedForValidation(max, S - 1n), false)
    })

    it('rejects bad beta or rate', () => {
      expectSamplingError(() => isSelectedForValidation(new Uint8Array(32), S), 'INVALID_ARGUMENT')
      expectSamplingError(() => isSelectedForValidation(new Uint8Array(65), S), 'INVALID_ARGUMENT')
      expectSamplingError(() => isSelectedForValidation('00' as unknown as Uint8Array, S), 'INVALID_ARGUMENT')
      expectSamplingError(() => isSelectedForValidation(new Uint8Array(64), S + 1n), 'INVALID_ARGUMENT')
      expectSamplingError(() => isSelectedForValidation(new Uint8Array(64), -1n), 'INVALID_ARGUMENT')
    })
  })
})
