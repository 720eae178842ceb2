import { strict as assert } from 'node:assert'
import {
  EMPTY_WINDOW,
  EXCLUDE_ENTER,
  EXCLUDE_EXIT,
  FIRST_TIMEOUT_THRESHOLD,
  HEALTH_FULL_RECOVERY_SECONDS,
  KICKOUT_Q_LONG,
  NEW_NODE_Q_LONG,
  QOS_SCALE,
  Q_LONG_WINDOW,
  SUCCESS_BOOST,
  TAU_SECONDS,
  type ScoreWindow,
  baseWeight,
  dispatchWeight,
  effectiveHealth,
  exclusionAfter,
  expNegTau,
  expNegTauX128,
  isqrt,
  onSuccess,
  onTimeout,
  pushScore,
  qLong,
  qosValue,
  secondsUntilHealth,
  shouldKickOut,
  stakingScore,
} from '../../../modules/qos/math.ts'
import { RuleError } from '../../../chain/errors.ts'

const S = QOS_SCALE
/** Fixed point from a decimal string, exactly (test helper): fx('0.0855') = 85 500 000 000 000 000. */
function fx(dec: string): bigint {
  const [int, frac = ''] = dec.split('.')
  assert.ok(frac.length <= 18)
  return BigInt(int!) * S + BigInt(frac.padEnd(18, '0'))
}

function expectQosError(fn: () => unknown, code: string, mentions?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RuleError, `expected RuleError, got ${String(e)}`)
    assert.equal(e.code, code)
    if (mentions !== undefined) assert.ok(e.message.includes(mentions), `message "${e.message}" should name ${mentions}`)
    return true
  })
}

function windowOf(scores: bigint[]): ScoreWindow {
  let w = EMPTY_WINDOW
  for (const s of scores) w = pushScore(w, s)
  return w
}

function repeat(score: bigint, n: number): bigint[] {
  return Array.from({ length: n }, () => score)
}

/**
 * Independent reference for e^(−t/1800), test only: floor(10^60 · e^(−t/1800))
 * up to a few units, from the Taylor series of e^(+t/1800) evaluated directly
 * (no range reduction) at 10^80 and inverted. Different base, precision and
 * method from the implementation's 2^128 binary-decomposition table.
 */
const REF_SCALE = 10n ** 60n
function refExpNeg(t: bigint): bigint {
  const wide = 10n ** 80n
  let term = wide
  let sum = wide
  for (let n = 1n; term > 0n; n++) {
    term = (term * t) / (1800n * n)
    sum += term
  }
  return (wide * REF_SCALE) / sum
}

describe('qos/math: Crynux relay QoS in fixed point', () => {
  describe('score window and Q_long', () => {
    it('new node (no samples) has Q_long = 5.0; the mean is floored', () => {
      assert.equal(qLong([]), NEW_NODE_Q_LONG)
      assert.equal(qLong(EMPTY_WINDOW.scores), 5n * S)
      assert.equal(qLong([10n]), 10n * S)
      // (10 + 5 + 2) / 3 = 5.666… → floor at 10^-18
      assert.equal(qLong([10n, 5n, 2n]), 5_666_666_666_666_666_666n)
      // (10 + 0) / 2 = 5
      assert.equal(qLong([10n, 0n]), 5n * S)
      // all-zero samples are a real 0, not the new-node value (deliberate difference from the relay)
      assert.equal(qLong([0n, 0n, 0n]), 0n)
    })

    it('qLong of a longer list uses only the last 50 scores', () => {
      // 10 old tens, then 50 twos: mean of the last 50 = 2.0
      assert.equal(qLong([...repeat(10n, 10), ...repeat(2n, 50)]), 2n * S)
      // a ten, 49 twos, then a five: the ten falls out, (49·2 + 5)/50 = 103/50 = 2.06
      assert.equal(qLong([10n, ...repeat(2n, 49), 5n]), ((49n * 2n + 5n) * S) / 50n)
      assert.equal(qLong([10n, ...repeat(2n, 49), 5n]), fx('2.06'))
    })

    it('ring semantics: the 51st score drops the first, oldest first, inputs untouched', () => {
      const first50 = [10n, ...repeat(5n, 48), 2n]
      const w50 = windowOf(first50)
      assert.equal(w50.scores.length, 50)
      assert.deepEqual(w50.scores, first50)
      const w51 = pushScore(w50, 0n)
      assert.equal(w51.scores.length, 50)
      assert.deepEqual(w51.scores, [...repeat(5n, 48), 2n, 0n])
      assert.deepEqual(w50.scores, first50, 'pushScore must not modify its input')
      assert.ok(Object.isFrozen(w51) && Object.isFrozen(w51.scores))
      // Q_long moved from (10 + 240 + 2)/50 = 5.04 to (240 + 2 + 0)/50 = 4.84
      assert.equal(qLong(w50.scores), fx('5.04'))
      assert.equal(qLong(w51.scores), fx('4.84'))
    })

    it('rejects scores that no rank or abort rule can produce', () => {
      for (const bad of [1n, 3n, 11n, -2n, 2] as unknown[]) {
        expectQosError(() => pushScore(EMPTY_WINDOW, bad as bigint), 'INVALID_ARGUMENT', 'score')
        expectQosError(() => qLong([10n, bad as bigint]), 'INVALID_ARGUMENT', 'scores[1]')
      }
      expectQosError(() => pushScore({ scores: repeat(2n, 51) }, 2n), 'INVALID_ARGUMENT', 'window.scores')
      expectQosError(() => pushScore(null as unknown as ScoreWindow, 2n), 'INVALID_ARGUMENT', 'window')
      expectQosError(() => shouldKickOut({ scores: [7n] }), 'INVALID_ARGUMENT', 'window.scores[0]')
    })
  })

  describe('kick-out', () => {
    it('needs 50 samples: 49 zeros do not kick out, the 50th does', () => {
      const w49 = windowOf(repeat(0n, 49))
      assert.equal(shouldKickOut(w49), false)
      assert.equal(shouldKickOut(pushScore(w49, 0n)), true)
      assert.equal(shouldKickOut(EMPTY_WINDOW), false)
    })

    it('Q_long exactly 2.0 stays; the largest possible value below (1.98) is kicked out', () => {
      const at2 = windowOf(repeat(2n, 50)) // 100 / 50 = 2.0
      assert.equal(qLong(at2.scores), KICKOUT_Q_LONG)
      assert.equal(shouldKickOut(at2), false)
      // 47·2 + 1·5 + 2·0 = 99 → 99/50 = 1.98: the largest sum below 100 (scores are 0/2/5/10)
      const below = windowOf([...repeat(2n, 47), 5n, 0n, 0n])
      assert.equal(qLong(below.scores), fx('1.98'))
      assert.equal(shouldKickOut(below), true)
      // the ring: a 0 pushed onto the 2.0 window drops a 2 → 98/50 = 1.96 → kick-out
      assert.equal(shouldKickOut(pushScore(at2, 0n)), true)
      // and a 10 replacing a 2 → 108/50 = 2.16 → stays
      assert.equal(shouldKickOut(pushScore(at2, 10n)), false)
    })
  })

  describe('expNegTau: e^(−Δt/1800) in integers', () => {
    it('golden values (floor(10^18·e^(−t/1800)), computed offline at 80 digits)', () => {
      assert.equal(expNegTau(0n), S)
      assert.equal(expNegTau(-5n), S)
      assert.equal(expNegTau(1n), 999_444_598_736_858_106n) // e^(−1/1800) = 0.999444598736858106808…
      assert.equal(expNegTau(2n), 998_889_505_944_279_313n)
      assert.equal(expNegTau(60n), 967_216_100_482_005_902n)
      assert.equal(expNegTau(1800n), 367_879_441_171_442_321n) // e^(−1) = 0.367879441171442321595…
      assert.equal(expNegTau(3600n), 135_335_283_236_612_691n) // e^(−2)
      assert.equal(expNegTau(74_603n), 1n) // 1.00042…·10^-18
      assert.equal(expNegTau(HEALTH_FULL_RECOVERY_SECONDS), 0n) // 0.99986…·10^-18
      assert.equal(expNegTau(10n ** 30n), 0n)
    })

    it('absolute error < 1.000001·10^-18 (rounded down) against an independent 10^-60 evaluation on a grid', () => {
      const grid: bigint[] = []
      for (let t = 0n; t <= HEALTH_FULL_RECOVERY_SECONDS + 10n; t += 37n) grid.push(t)
      for (let t = 0n; t < 20n; t++) grid.push(t)
      for (let i = 0n; i <= 16n; i++) grid.push(1n << i, (1n << i) - 1n) // single-bit and all-ones Δt
      grid.push(1800n, 3599n, 3600n, 74_603n, 74_604n, 74_605n)
      const up = REF_SCALE / S // 10^42
      let worstBelow = 0n
      let worstAbove = 0n
      for (const t of grid) {
        const diff = expNegTau(t) * up - refExpNeg(t) // in units of 10^-60
        if (diff < worstBelow) worstBelow = diff
        if (diff > worstAbove) worstAbove = diff
      }
      // documented: E/10^18 ∈ (e − 10^-18 − 10^-37, e + 10^-37]; allow 2 units for the reference's own floor
      assert.ok(worstAbove <= 10n ** 23n + 2n, `overshoot ${worstAbove}·10^-60`)
      assert.ok(worstBelow > -(up + 10n ** 23n + 2n), `undershoot ${worstBelow}·10^-60`)
    })

    it('working precision: expNegTauX128 is within 34 units of 2^-128 of the reference on a grid over [0, 2^17)', () => {
      // Compared at the common scale 10^60 · 2^128; the reference's own floor adds at most a few 2^128 units.
      const unit = REF_SCALE // one unit of 2^-128 at this scale
      const slack = 4n << 128n
      for (let t = 0n; t < 1n << 17n; t += 97n) {
        const diff = expNegTauX128(t) * REF_SCALE - refExpNeg(t) * (1n << 128n)
        assert.ok(diff <= slack && diff >= -(34n * unit + slack), `t=${t}: ${Number(diff) / Number(unit)} units`)
      }
      expectQosError(() => expNegTauX128(1n << 17n), 'INVALID_ARGUMENT', 'dt')
      expectQosError(() => expNegTauX128(-1n), 'INVALID_ARGUMENT', 'dt')
    })

    it('cross-check against Math.exp (test only): within 10^-15 for every second up to full recovery', () => {
      for (let t = 0; t <= Number(HEALTH_FULL_RECOVERY_SECONDS); t++) {
        const got = Number(expNegTau(BigInt(t))) / 1e18
        const want = Math.exp(-t / 1800)
        assert.ok(Math.abs(got - want) < 1e-15, `t=${t}: ${got} vs ${want}`)
      }
    })

    it('is non-increasing every second and hits 0 exactly at HEALTH_FULL_RECOVERY_SECONDS', () => {
      let prev = expNegTau(0n)
      for (let t = 1n; t <= HEALTH_FULL_RECOVERY_SECONDS + 5n; t++) {
        const e = expNegTau(t)
        assert.ok(e <= prev, `t=${t}`)
        if (t < HEALTH_FULL_RECOVERY_SECONDS) assert.ok(e > 0n, `t=${t} already 0`)
        prev = e
      }
      assert.equal(prev, 0n)
      // the constant agrees with the reference: floor(10^18·e^(−t/τ)) first reaches 0 there
      assert.ok(refExpNeg(HEALTH_FULL_RECOVERY_SECONDS) < REF_SCALE / S)
      assert.ok(refExpNeg(HEALTH_FULL_RECOVERY_SECONDS - 1n) >= REF_SCALE / S)
      assert.equal(TAU_SECONDS, 1800n)
    })
  })

  describe('health', () => {
    it('three timeouts in a row from H = 1: 1 → 0.95 → 0.285 → 0.0855, excluded at the third', () => {
      let h = S
      let excluded = false
      // 1st: H_eff = 1 ≥ 0.99 → 1 × 0.95 = 0.95
      h = onTimeout(h)
      excluded = exclusionAfter(excluded, h)
      assert.equal(h, fx('0.95'))
      assert.equal(excluded, false)
      // 2nd (same block, no recovery): 0.95 < 0.99 → 0.95 × 0.3 = 0.285 ≥ 0.2
      h = onTimeout(effectiveHealth(h, 100n, 100n))
      excluded = exclusionAfter(excluded, h)
      assert.equal(h, fx('0.285'))
      assert.equal(excluded, false)
      // 3rd: 0.285 × 0.3 = 0.0855 < 0.2 → excluded
      h = onTimeout(h)
      excluded = exclusionAfter(excluded, h)
      assert.equal(h, fx('0.0855'))
      assert.equal(excluded, true)
    })

    it('recovery, success and timeouts against hand-computed values', () => {
      // Two timeouts at t = 1000: H_base = 0.285, t_base = 1000.
      const hBase = onTimeout(onTimeout(S))
      assert.equal(hBase, fx('0.285'))
      // 30 min later: H_eff = 0.285 + 0.715·(1 − e^-1) = 1 − 0.715·e^-1
      //   e^-1 at 10^-18 = 0.367879441171442321 (floor)
      //   0.715 · 0.367879441171442321 = 0.263033800437581259515 → ceil at 10^-18 → 0.263033800437581260
      //   H_eff = 1 − 0.263033800437581260 = 0.736966199562418740 (true value 0.73696619956241874005…)
      const hEff = effectiveHealth(hBase, 1000n, 2800n)
      assert.equal(hEff, fx('0.736966199562418740'))
      // success: + 0.15 = 0.886966199562418740
      const afterSuccess = onSuccess(hEff)
      assert.equal(afterSuccess, fx('0.886966199562418740'))
      // timeout in the same block: 0.886966199562418740 < 0.99 → × 0.3 = 0.266089859868725622 (exact)
      const t1 = onTimeout(afterSuccess)
      assert.equal(t1, fx('0.266089859868725622'))
      assert.equal(exclusionAfter(false, t1), false)
      // another: × 0.3 = 0.0798269579606176866 → floor → 0.079826957960617686
      const t2 = onTimeout(t1)
      assert.equal(t2, fx('0.079826957960617686'))
      assert.equal(exclusionAfter(false, t2), true)
      // 1 h after a drop to 0: H_eff = 1 − e^-2 = 1 − 0.135335283236612691 = 0.864664716763387309
      assert.equal(effectiveHealth(0n, 0n, 3600n), fx('0.864664716763387309'))
    })

    it('the first-timeout threshold is 0.99 inclusive', () => {
      // 0.99 × 0.95 = 0.9405
      assert.equal(onTimeout(FIRST_TIMEOUT_THRESHOLD), fx('0.9405'))
      // one unit below 0.99 → × 0.3: (0.99 − 10^-18) × 0.3 = 0.297 − 3·10^-19 → floor 0.296999999999999999
      assert.equal(onTimeout(FIRST_TIMEOUT_THRESHOLD - 1n), fx('0.296999999999999999'))
      // back above 0.99 after recovery: from 0.95 it takes τ·ln 5 = 2896.99 s → 2897 s
      assert.equal(secondsUntilHealth(fx('0.95'), FIRST_TIMEOUT_THRESHOLD), 2897n)
      assert.equal(effectiveHealth(fx('0.95'), 0n, 2896n), fx('0.989994508257137763'))
      assert.equal(onTimeout(effectiveHealth(fx('0.95'), 0n, 2896n)), fx('0.296998352477141328')) // 0.989994508257137763 × 0.3 = 0.2969983524771413289 → floor
      assert.equal(effectiveHealth(fx('0.95'), 0n, 2897n), fx('0.990000065319890105'))
      assert.equal(onTimeout(effectiveHealth(fx('0.95'), 0n, 2897n)), fx('0.940500062053895599')) // 0.990000065319890105 × 0.95 = 0.94050006205389559975 → floor
    })

    it('success adds 0.15, capped at 1', () => {
      assert.equal(onSuccess(0n), SUCCESS_BOOST)
      assert.equal(onSuccess(fx('0.0855')), fx('0.2355'))
      assert.equal(onSuccess(fx('0.85')), S)
      assert.equal(onSuccess(fx('0.85') - 1n), S - 1n)
      assert.equal(onSuccess(fx('0.9')), S)
      assert.equal(onSuccess(S), S)
    })

    it('effectiveHealth: Δt ≤ 0 returns base; monotone in Δt and in base; exactly 1 after full recovery', () => {
      const bases = [0n, 1n, fx('0.0855'), fx('0.5'), fx('0.95'), S - 1n, S]
      for (const b of bases) {
        assert.equal(effectiveHealth(b, 500n, 500n), b)
        assert.equal(effectiveHealth(b, 500n, 499n), b)
        assert.equal(effectiveHealth(b, 500n, 0n), b)
        assert.equal(effectiveHealth(b, 0n, HEALTH_FULL_RECOVERY_SECONDS), S)
        assert.equal(effectiveHealth(b, 0n, 10n ** 12n), S)
        if (b < S) assert.ok(effectiveHealth(b, 0n, HEALTH_FULL_RECOVERY_SECONDS - 1n) < S)
      }
      for (const b of [0n, fx('0.0855'), fx('0.7')]) {
        let prev = b
        for (let t = 1n; t <= HEALTH_FULL_RECOVERY_SECONDS; t += 1n) {
          const h = effectiveHealth(b, 0n, t)
          assert.ok(h >= prev, `base=${b} t=${t}`)
          prev = h
        }
      }
      for (const t of [1n, 60n, 1800n, 20_000n]) {
        let prev = -1n
        for (const b of bases) {
          const h = effectiveHealth(b, 0n, t)
          assert.ok(h >= prev && h >= b && h <= S, `t=${t} base=${b}`)
          prev = h
        }
      }
    })
  })

  describe('exclusion and re-inclusion', () => {
    it('hysteresis: enter below 0.2, leave at 0.8', () => {
      assert.equal(exclusionAfter(false, EXCLUDE_ENTER), false)
      assert.equal(exclusionAfter(false, EXCLUDE_ENTER - 1n), true)
      assert.equal(exclusionAfter(false, 0n), true)
      assert.equal(exclusionAfter(true, EXCLUDE_ENTER), true)
      assert.equal(exclusionAfter(true, fx('0.5')), true)
      assert.equal(exclusionAfter(true, EXCLUDE_EXIT - 1n), true)
      assert.equal(exclusionAfter(true, EXCLUDE_EXIT), false)
      assert.equal(exclusionAfter(false, fx('0.5')), false)
      expectQosError(() => exclusionAfter(1 as unknown as boolean, S), 'INVALID_ARGUMENT', 'excluded')
    })

    it('re-included exactly when H_eff reaches 0.8 per secondsUntilHealth, not one second earlier', () => {
      // excluded at 0.0855 at block time t0; real-valued exit time τ·ln(0.9145/0.2) = 2736.108 s
      const t0 = 1_700_000_000n
      const hBase = fx('0.0855')
      const wait = secondsUntilHealth(hBase, EXCLUDE_EXIT)
      assert.equal(wait, 2737n)
      // t0 + 2736: 1 − 0.9145·e^(−2736/1800) = 0.79998797938219960… → still excluded
      const before = effectiveHealth(hBase, t0, t0 + wait - 1n)
      assert.equal(before, fx('0.799987979382199601'))
      assert.equal(exclusionAfter(true, before), true)
      // t0 + 2737: 0.80009906631109428… → re-included
      const at = effectiveHealth(hBase, t0, t0 + wait)
      assert.equal(at, fx('0.800099066311094289'))
      assert.equal(exclusionAfter(true, at), false)
      // a success while excluded (0.0855 + 0.15 = 0.2355) does not end the exclusion
      assert.equal(exclusionAfter(true, onSuccess(hBase)), true)
    })

    it('secondsUntilHealth is exact w.r.t. effectiveHealth and close to τ·ln((1 − H)/(1 − target))', () => {
      const hs = [0n, 1n, fx('0.0855'), fx('0.1'), fx('0.19'), fx('0.285'), fx('0.5'), fx('0.79'), fx('0.95')]
      const targets = [fx('0.2'), fx('0.5'), EXCLUDE_EXIT, FIRST_TIMEOUT_THRESHOLD, S - 1n, S]
      for (const h of hs) {
        for (const target of targets) {
          const t = secondsUntilHealth(h, target)
          if (h >= target) {
            assert.equal(t, 0n)
            continue
          }
          assert.ok(t > 0n && t <= HEALTH_FULL_RECOVERY_SECONDS)
          assert.ok(effectiveHealth(h, 0n, t) >= target, `h=${h} target=${target}: not reached at ${t}`)
          assert.ok(effectiveHealth(h, 0n, t - 1n) < target, `h=${h} target=${target}: reached before ${t}`)
          if (target < S - 1n) {
            const real = 1800 * Math.log((1 - Number(h) / 1e18) / (1 - Number(target) / 1e18))
            assert.ok(Math.abs(Number(t) - real) <= 1, `h=${h} target=${target}: ${t} vs ${real}`)
          }
        }
      }
      assert.equal(secondsUntilHealth(0n, S), HEALTH_FULL_RECOVERY_SECONDS)
      assert.equal(secondsUntilHealth(S, S), 0n)
    })
  })

  describe('QoS value and dispatch weight', () => {
    it('qosValue = (Q_long / 10) · H', () => {
      assert.equal(qosValue(NEW_NODE_Q_LONG, S), fx('0.5')) // 5.0/10 · 1
      assert.equal(qosValue(5n * S, fx('0.95')), fx('0.475')) // 0.5 · 0.95
      assert.equal(qosValue(10n * S, S), S)
      assert.equal(qosValue(0n, S), 0n)
      assert.equal(qosValue(10n * S, 0n), 0n)
      // 5.666666666666666666 / 10 · 0.3 = 0.1699999999999999999(8) → floor
      assert.equal(qosValue(qLong([10n, 5n, 2n]), fx('0.3')), fx('0.169999999999999999'))
      expectQosError(() => qosValue(10n * S + 1n, S), 'INVALID_ARGUMENT', 'qLong')
      expectQosError(() => qosValue(S, S + 1n), 'INVALID_ARGUMENT', 'h')
    })

    it('isqrt is the exact floor square root', () => {
      const check = (n: bigint): void => {
        const r = isqrt(n)
        assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n}) = ${r}`)
      }
      assert.equal(isqrt(0n), 0n)
      assert.equal(isqrt(1n), 1n)
      assert.equal(isqrt(2n), 1n)
      assert.equal(isqrt(3n), 1n)
      assert.equal(isqrt(4n), 2n)
      for (let k = 0n; k <= 3000n; k++) {
        const sq = k * k
        assert.equal(isqrt(sq), k)
        if (k > 0n) {
          assert.equal(isqrt(sq - 1n), k - 1n)
          assert.equal(isqrt(sq + 1n), k) // (for k = 0, 0 + 1 is already the next square)
        }
        assert.equal(isqrt(sq + 2n * k), k) // (k+1)^2 − 1
      }
      for (const k of [10n ** 18n, 10n ** 18n - 1n, (1n << 64n) - 1n, 1n << 100n, 3n ** 101n, 10n ** 40n + 7n]) {
        const sq = k * k
        assert.equal(isqrt(sq), k)
        assert.equal(isqrt(sq - 1n), k - 1n)
        assert.equal(isqrt(sq + 1n), k)
        assert.equal(isqrt(sq + 2n * k), k) // (k+1)^2 − 1
        assert.equal(isqrt(sq + 2n * k + 1n), k + 1n)
      }
      // a deterministic pseudo-random sweep (LCG), up to 2^200
      let x = 12345n
      for (let i = 0; i < 500; i++) {
        x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 200n)
        check(x >> BigInt(i % 200))
      }
      expectQosError(() => isqrt(-1n), 'INVALID_ARGUMENT', 'n')
    })

    it('staking score S = sqrt(stake / maxStake): exactly 1 at max, clamped, 0 for zero', () => {
      assert.equal(stakingScore(400_000_000n, 400_000_000n), S)
      assert.equal(stakingScore(1n, 1n), S)
      assert.equal(stakingScore(10n ** 30n, 10n ** 30n), S)
      assert.equal(stakingScore(800n, 400n), S) // clamped to maxStake
      assert.equal(stakingScore(100n, 400n), fx('0.5')) // sqrt(1/4)
      assert.equal(stakingScore(200n, 400n), fx('0.707106781186547524')) // sqrt(1/2) = 0.7071067811865475244… floor
      assert.equal(stakingScore(1n, 3n), fx('0.577350269189625764')) // sqrt(1/3) = 0.5773502691896257645… floor
      assert.equal(stakingScore(0n, 400n), 0n)
      assert.equal(stakingScore(0n, 0n), 0n)
      assert.equal(stakingScore(5n, 0n), 0n)
      expectQosError(() => stakingScore(-1n, 400n), 'INVALID_ARGUMENT', 'stake')
      expectQosError(() => stakingScore(1n, -400n), 'INVALID_ARGUMENT', 'maxStake')
    })

    it('dispatch weight S·Q/(S+Q): hand values, symmetric, monotone, zero cases', () => {
      // S = 1, Q = 0.5: 0.5 / 1.5 = 1/3 → floor
      assert.equal(dispatchWeight(400n, 400n, fx('0.5')), fx('0.333333333333333333'))
      // S = 0.5, Q = 0.5: 0.25 / 1 = 0.25
      assert.equal(dispatchWeight(100n, 400n, fx('0.5')), fx('0.25'))
      // S = Q = 1: 1/2, the maximum
      assert.equal(dispatchWeight(1n, 1n, S), fx('0.5'))
      assert.equal(dispatchWeight(0n, 400n, S), 0n)
      assert.equal(dispatchWeight(400n, 400n, 0n), 0n)
      assert.equal(dispatchWeight(0n, 0n, S), 0n)
      const units = [0n, 1n, fx('0.01'), fx('0.2'), fx('0.5'), fx('0.707106781186547524'), fx('0.99'), S]
      for (const a of units) for (const b of units) assert.equal(baseWeight(a, b), baseWeight(b, a))
      // monotone in stake (fixed Q) and in Q (fixed stake)
      const maxStake = 400_000_000n
      for (const q of [1n, fx('0.0855'), fx('0.5'), S]) {
        let prev = -1n
        for (let stake = 0n; stake <= maxStake + 1_000_000n; stake += 7_654_321n) {
          const w = dispatchWeight(stake, maxStake, q)
          assert.ok(w >= prev, `q=${q} stake=${stake}`)
          prev = w
        }
      }
      for (const stake of [1n, 1_000n, maxStake / 3n, maxStake]) {
        let prev = -1n
        for (let q = 0n; q <= S; q += S / 97n) {
          const w = dispatchWeight(stake, maxStake, q)
          assert.ok(w >= prev && w <= S / 2n, `stake=${stake} q=${q}`)
          prev = w
        }
      }
      expectQosError(() => dispatchWeight(1n, 1n, S + 1n), 'INVALID_ARGUMENT', 'q')
      expectQosError(() => baseWeight(-1n, S), 'INVALID_ARGUMENT', 's')
    })
  })

  describe('input validation and determinism', () => {
    it('every function rejects out-of-range or mistyped inputs, naming the argument', () => {
      expectQosError(() => effectiveHealth(S + 1n, 0n, 1n), 'INVALID_ARGUMENT', 'base')
      expectQosError(() => effectiveHealth(-1n, 0n, 1n), 'INVALID_ARGUMENT', 'base')
      expectQosError(() => effectiveHealth(S, -1n, 1n), 'INVALID_ARGUMENT', 'baseTime')
      expectQosError(() => effectiveHealth(S, 0n, -1n), 'INVALID_ARGUMENT', 'now')
      expectQosError(() => effectiveHealth(1 as unknown as bigint, 0n, 1n), 'INVALID_ARGUMENT', 'base')
      expectQosError(() => onTimeout(S + 1n), 'INVALID_ARGUMENT', 'hEff')
      expectQosError(() => onSuccess(-1n), 'INVALID_ARGUMENT', 'hEff')
      expectQosError(() => exclusionAfter(true, S + 1n), 'INVALID_ARGUMENT', 'h')
      expectQosError(() => secondsUntilHealth(-1n, S), 'INVALID_ARGUMENT', 'hBase')
      expectQosError(() => secondsUntilHealth(0n, S + 1n), 'INVALID_ARGUMENT', 'target')
      expectQosError(() => expNegTau(1 as unknown as bigint), 'INVALID_ARGUMENT', 'dt')
      expectQosError(() => qLong('10' as unknown as bigint[]), 'INVALID_ARGUMENT', 'scores')
      expectQosError(() => dispatchWeight(-5n, 10n, S), 'INVALID_ARGUMENT', 'stake')
    })

    it('same inputs give the same outputs', () => {
      const run = () => {
        let h = S
        let w = EMPTY_WINDOW
        let t = 1_000n
        const out: bigint[] = []
        for (let i = 0n; i < 200n; i++) {
          t += (i * 7919n) % 3001n
          h = i % 3n === 0n ? onTimeout(effectiveHealth(h, t - 500n, t)) : onSuccess(effectiveHealth(h, t - 90n, t))
          w = pushScore(w, [10n, 5n, 2n, 0n][Number(i % 4n)]!)
          out.push(h, qLong(w.scores), dispatchWeight(i * 1_000n, 200_000n, qosValue(qLong(w.scores), h)), secondsUntilHealth(h, EXCLUDE_EXIT))
        }
        return { out, scores: w.scores }
      }
      const a = run()
      const b = run()
      assert.deepEqual(a.out, b.out)
      assert.deepEqual(a.scores, b.scores)
      assert.equal(Q_LONG_WINDOW, 50)
    })
  })
})
