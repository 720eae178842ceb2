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
  attackerGainFraction,
  attackerSeatFraction,
  attackerSeatProbability,
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

// ---- Independent exact reference: rationals, written from the protocol, never from sampling.ts ----

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a
  b = b < 0n ? -b : b
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

/** An exact rational num/den, den > 0, in lowest terms. */
class Rational {
  readonly num: bigint
  readonly den: bigint
  constructor(num: bigint, den = 1n) {
    if (den === 0n) throw new Error('zero denominator')
    if (den < 0n) [num, den] = [-num, -den]
    const g = gcd(num, den) || 1n
    this.num = num / g
    this.den = den / g
  }
  static of(v: bigint): Rational {
    return new Rational(v)
  }
  /** A RATE_SCALE fixed-point value as the rational it stands for. */
  static fixed(v: bigint): Rational {
    return new Rational(v, S)
  }
  add(o: Rational): Rational {
    return new Rational(this.num * o.den + o.num * this.den, this.den * o.den)
  }
  sub(o: Rational): Rational {
    return new Rational(this.num * o.den - o.num * this.den, this.den * o.den)
  }
  mul(o: Rational): Rational {
    return new Rational(this.num * o.num, this.den * o.den)
  }
  div(o: Rational): Rational {
    return new Rational(this.num * o.den, this.den * o.num)
  }
  cmp(o: Rational): number {
    const x = this.num * o.den - o.num * this.den
    return x < 0n ? -1 : x > 0n ? 1 : 0
  }
  lt(o: Rational): boolean {
    return this.cmp(o) < 0
  }
  le(o: Rational): boolean {
    return this.cmp(o) <= 0
  }
  gt(o: Rational): boolean {
    return this.cmp(o) > 0
  }
  eq(o: Rational): boolean {
    return this.cmp(o) === 0
  }
  floor(): bigint {
    const q = this.num / this.den
    return this.num < 0n && q * this.den !== this.num ? q - 1n : q
  }
  ceil(): bigint {
    return -new Rational(-this.num, this.den).floor()
  }
  /** An uberyl amount in BERYL, rounded to 4 decimals (half up), for comparing with the figures quoted in prose. */
  toBeryl(): string {
    return (Number(this.mul(Rational.of(10_000n)).div(Rational.of(BERYL)).add(new Rational(1n, 2n)).floor()) / 10_000).toFixed(4)
  }
  toString(): string {
    return `${this.num}/${this.den}`
  }
}

const ZERO = Rational.of(0n)
const ONE = Rational.of(1n)

function choose(n: bigint, k: bigint): bigint {
  if (k < 0n || k > n) return 0n
  let r = 1n
  for (let i = 0n; i < k; i++) r = (r * (n - i)) / (i + 1n)
  return r
}

const ref = {
  /** d = ceil(f·n) for f a RATE_SCALE fixed-point share. */
  d(n: bigint, f: bigint): bigint {
    return Rational.of(n).mul(Rational.fixed(f)).ceil()
  },
  /** q = 1 − C(h,2)/C(n−1,2): the attacker holding T1 gets ≥ 1 of the 2 seats drawn from the other n − 1 nodes. */
  q(n: bigint, d: bigint): Rational {
    return d === 0n ? ZERO : ONE.sub(new Rational(choose(n - d, 2n), choose(n - 1n, 2n)))
  },
  /** The old formula: p(h,d) = P(a uniform 3-group holds ≥ 2 attacker nodes). */
  p(n: bigint, d: bigint): Rational {
    return new Rational(choose(d, 2n) * (n - d) + choose(d, 3n), choose(n, 3n))
  },
  /**
   * g = q + 2(d − 1)/(n − 1) when every matching run is paid: T1's fee when a seat is held, plus one fee per held
   * seat (each seat is one of d − 1 of n − 1).
   */
  g(n: bigint, d: bigint): Rational {
    return d <= 1n ? ref.q(n, d) : ref.q(n, d).add(new Rational(2n * (d - 1n), n - 1n))
  },
  /** E = (1 − r)k + r(gk − (1 − q)s), term by term as the protocol states it; g = q when a group shares one fee. */
  E(k: bigint, s: bigint, q: Rational, r: Rational, g: Rational = q): Rational {
    const K = Rational.of(k)
    const paidForNothing = ONE.sub(r).mul(K)
    const sampled = g.mul(K).sub(ONE.sub(q).mul(Rational.of(s)))
    return paidForNothing.add(r.mul(sampled))
  },
  /** r* = k / ((1 − q)(k + s)), the rate at which E = 0; null when 1 − q = 0 or k + s = 0. */
  rStar(k: bigint, s: bigint, q: Rational): Rational | null {
    const den = ONE.sub(q).mul(Rational.of(k + s))
    return den.num === 0n ? null : Rational.of(k).div(den)
  },
  /** A fee is securable iff E at r = 1 is ≤ 0. */
  securable(k: bigint, s: bigint, q: Rational): boolean {
    return ref.E(k, s, q, ONE).le(ZERO)
  },
  /** The largest k with gk ≤ (1 − q)s; null when g = 0 (every fee is securable). */
  maxFee(s: bigint, q: Rational, g: Rational = q): bigint | null {
    return g.num === 0n ? null : ONE.sub(q).mul(Rational.of(s)).div(g).floor()
  },
}

// ---- The grid ----

const GRID_NODES = [3n, 4n, 5n, 10n, 11n, 50n, 100n, 1000n, 10000n]
const GRID_SHARES = [S / 100n, S / 20n, S / 10n, (33n * S) / 100n] // 1%, 5%, 10%, 33%
const GRID_STAKES = [1n * BERYL, 400n * BERYL, 4000n * BERYL]
/** 1 uberyl .. 10^6 BERYL (10^12 uberyl), 1-2-5 per decade, rising. */
const GRID_FEES: bigint[] = []
for (let decade = 1n; decade <= 10n ** 12n; decade *= 10n) {
  for (const m of [1n, 2n, 5n]) if (m * decade <= 10n ** 12n) GRID_FEES.push(m * decade)
}

interface GridCase {
  n: bigint
  f: bigint
  s: bigint
  k: bigint
  q: Rational
  outcome: ReturnType<typeof samplingRate> | SamplingError
}

/** Every (n, f, s, k) of the grid, with the reference q and what samplingRate said. */
function* grid(): Generator<GridCase> {
  for (const n of GRID_NODES)
    for (const f of GRID_SHARES)
      for (const s of GRID_STAKES) {
        const q = ref.q(n, ref.d(n, f))
        for (const k of GRID_FEES) {
          let outcome: GridCase['outcome']
          try {
            outcome = samplingRate({ fee: k, minStake: s, eligibleNodes: n, dishonestShare: f })
          } catch (e) {
            if (!(e instanceof SamplingError)) throw e
            outcome = e
          }
          yield { n, f, s, k, q, outcome }
        }
      }
}
const label = (c: { n: bigint; f: bigint; s: bigint; k: bigint }) => `n=${c.n} f=${c.f}/${S} s=${c.s} k=${c.k}`

let gridCache: GridCase[] | undefined
const GRID = (): GridCase[] => (gridCache ??= [...grid()])
const accepted = (c: GridCase) => !(c.outcome instanceof SamplingError)

describe('vss/sampling: fee-adaptive sampling rate', () => {
  describe('q: the attacker whose node holds T1 wins a validation seat', () => {
    it("q is the chance that >= 1 of the 2 seats drawn from the other n − 1 nodes is the attacker's (every 2-subset, n = 3..14, every d)", () => {
      for (let n = 3; n <= 14; n++) {
        for (let d = 1; d <= n; d++) {
          // Nodes 0..d-1 are the attacker's; node 0 holds T1 and cannot be drawn.
          let hits = 0
          let total = 0
          for (let a = 1; a < n; a++)
            for (let b = a + 1; b < n; b++) {
              total++
              if (a < d || b < d) hits++
            }
          const { num, den } = attackerSeatFraction(BigInt(n), BigInt(d))
          assert.equal(num * BigInt(total), BigInt(hits) * den, `n=${n} d=${d}`)
        }
      }
    })

    it('q is exact and in lowest terms, and its fixed-point value is the least one >= q (rounded up)', () => {
      for (const n of GRID_NODES) {
        for (const d of new Set([0n, 1n, 2n, 3n, n / 10n, n / 3n, n / 2n, n - 2n, n - 1n, n].filter((d) => d >= 0n && d <= n))) {
          const q = ref.q(n, d)
          const exact = attackerSeatFraction(n, d)
          assert.deepEqual(exact, { num: q.num, den: q.den }, `n=${n} d=${d}`)
          const fixed = attackerSeatProbability(n, d)
          assert.ok(Rational.fixed(fixed).cmp(q) >= 0 && Rational.fixed(fixed - 1n).lt(q), `n=${n} d=${d}: ${fixed} is not q rounded up`)
        }
      }
    })

    it('q never falls as d grows, so rounding d up is against the attacker', () => {
      for (const n of [3n, 4n, 11n, 57n, 1000n]) {
        let prev = ZERO
        for (let d = 0n; d <= n; d++) {
          const q = ref.q(n, d)
          assert.ok(prev.le(q), `n=${n} d=${d}`)
          assert.deepEqual(attackerSeatFraction(n, d), { num: q.num, den: q.den })
          prev = q
        }
      }
    })

    it('d = ceil(share · n), at least 1 for any positive share: an attacker holding T1 owns that node', () => {
      assert.equal(dishonestNodeCount(3n, DEFAULT_DISHONEST_SHARE), 1n)
      assert.equal(dishonestNodeCount(9n, DEFAULT_DISHONEST_SHARE), 1n) // 0.9 → 1, not 0
      assert.equal(dishonestNodeCount(10n, DEFAULT_DISHONEST_SHARE), 1n)
      assert.equal(dishonestNodeCount(11n, DEFAULT_DISHONEST_SHARE), 2n)
      assert.equal(dishonestNodeCount(1000n, DEFAULT_DISHONEST_SHARE), 100n)
      assert.equal(dishonestNodeCount(1001n, DEFAULT_DISHONEST_SHARE), 101n)
      assert.equal(dishonestNodeCount(1n, 1n), 1n) // the smallest share of the smallest network
      assert.equal(dishonestNodeCount(1000n, 0n), 0n)
      assert.equal(dishonestNodeCount(1000n, S), 1000n)
      for (const n of GRID_NODES) for (const f of GRID_SHARES) assert.equal(dishonestNodeCount(n, f), ref.d(n, f))
    })

    it("d = 1 (the attacker owns only T1's node) or d = 0 gives q = 0; at most one honest node gives q = 1", () => {
      for (const n of [3n, 10n, 10000n]) {
        assert.deepEqual(attackerSeatFraction(n, 1n), { num: 0n, den: 1n })
        assert.deepEqual(attackerSeatFraction(n, 0n), { num: 0n, den: 1n })
        assert.deepEqual(attackerSeatFraction(n, n - 1n), { num: 1n, den: 1n })
        assert.deepEqual(attackerSeatFraction(n, n), { num: 1n, den: 1n })
      }
    })

    it('q ≈ 2f, not p ≈ 3f²: 18.85% against the old 2.78% at n = 1000, f = 10%', () => {
      const q = attackerSeatProbability(1000n, 100n)
      assert.ok(q > (18846n * S) / 100000n && q < (18847n * S) / 100000n, `q=${q}`)
      const p = ref.p(1000n, 100n)
      assert.ok(p.gt(new Rational(2778n, 100000n)) && p.lt(new Rational(2779n, 100000n)), `p=${p}`)
    })

    it('fewer than 3 eligible nodes is an error: a group needs 3 distinct nodes', () => {
      for (const n of [0n, 1n, 2n]) {
        expectSamplingError(() => samplingRate({ fee: BERYL, minStake: DEFAULT_MIN_STAKE, eligibleNodes: n }), 'TOO_FEW_ELIGIBLE_NODES')
        expectSamplingError(() => attackerSeatFraction(n, 0n), 'TOO_FEW_ELIGIBLE_NODES')
      }
      assert.throws(() => samplingRate({ fee: BERYL, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 2n }), /validation group needs 3/)
    })
  })

  describe('samplingRate against an exact rational reference (n × f × fee × stake grid)', () => {
    it('E <= 0 exactly at the published rate for every accepted task', () => {
      let acceptedCount = 0
      for (const c of GRID()) {
        if (!accepted(c)) continue
        acceptedCount++
        const res = c.outcome as ReturnType<typeof samplingRate>
        assert.ok(res.rate >= DEFAULT_MIN_RATE && res.rate <= S, label(c))
        const E = ref.E(c.k, c.s, c.q, Rational.fixed(res.rate))
        assert.ok(E.le(ZERO), `${label(c)}: E = ${E}`)
      }
      assert.ok(acceptedCount > 3000, `accepted ${acceptedCount} of ${GRID().length}`)
    })

    it('reports d = ceil(f·n), h = n − d, q exactly and q rounded up', () => {
      for (const c of GRID()) {
        if (!accepted(c)) continue
        const res = c.outcome as ReturnType<typeof samplingRate>
        assert.equal(res.dishonestNodes, ref.d(c.n, c.f), label(c))
        assert.equal(res.honestNodes, c.n - res.dishonestNodes, label(c))
        assert.deepEqual(res.qExact, { num: c.q.num, den: c.q.den }, label(c))
        assert.equal(res.q, c.q.mul(Rational.of(S)).ceil(), label(c))
      }
    })

    it('the published rate is r* = k/((1−q)(k+s)) rounded up once: r* <= r < r* + 10^-18, unless r_min binds', () => {
      const step = Rational.fixed(1n)
      let above = 0
      for (const c of GRID()) {
        if (!accepted(c)) continue
        const { rate } = c.outcome as ReturnType<typeof samplingRate>
        const rStar = ref.rStar(c.k, c.s, c.q)!
        const r = Rational.fixed(rate)
        if (rate > DEFAULT_MIN_RATE) {
          above++
          assert.ok(rStar.le(r) && r.lt(rStar.add(step)), `${label(c)}: r*=${rStar} r=${r}`)
          // And so it is the least fixed-point rate with E <= 0.
          assert.ok(ref.E(c.k, c.s, c.q, Rational.fixed(rate - 1n)).gt(ZERO), label(c))
        } else {
          assert.equal(rate, DEFAULT_MIN_RATE)
          assert.ok(rStar.le(r), `${label(c)}: r_min below r*`)
        }
      }
      assert.ok(above > 1000, `rate above r_min in ${above} cases`)
    })

    it('the rate never falls as the fee rises, and once a fee is refused every larger one is (every n, f, s)', () => {
      let prev: GridCase | undefined
      for (const c of GRID()) {
        if (prev && prev.n === c.n && prev.f === c.f && prev.s === c.s) {
          assert.ok(c.k > prev.k)
          if (!accepted(prev)) assert.ok(!accepted(c), `${label(c)} accepted after a smaller fee was refused`)
          else if (accepted(c)) {
            const [a, b] = [prev.outcome, c.outcome] as Array<ReturnType<typeof samplingRate>>
            assert.ok(b.rate >= a.rate, `${label(c)}: ${b.rate} < ${a.rate}`)
          }
        }
        prev = c
      }
    })

    it('a fee is refused exactly when even r = 1 leaves E > 0', () => {
      let refused = 0
      for (const c of GRID()) {
        assert.equal(accepted(c), ref.securable(c.k, c.s, c.q), label(c))
        if (!accepted(c)) {
          refused++
          assert.equal((c.outcome as SamplingError).code, 'FEE_NOT_SECURABLE', label(c))
        }
      }
      assert.ok(refused > 100, `refused ${refused}`)
    })

    it('the refusal threshold is exact: the largest securable fee is accepted, one uberyl more is refused with that fee in the message', () => {
      for (const n of GRID_NODES)
        for (const f of GRID_SHARES)
          for (const s of GRID_STAKES) {
            const q = ref.q(n, ref.d(n, f))
            const max = ref.maxFee(s, q)
            const params = { minStake: s, eligibleNodes: n, dishonestShare: f }
            const tag = `n=${n} f=${f} s=${s}`
            assert.equal(maxSecurableFee(s, attackerSeatFraction(n, ref.d(n, f))), max, tag)
            if (max === null) {
              // q = 0: the attacker never wins a seat, so any fee is securable at r* = k/(k+s) < 1.
              const fee = 10n ** 30n
              const res = samplingRate({ ...params, fee })
              assert.ok(res.maxSecurableFee === null && ref.E(fee, s, q, Rational.fixed(res.rate)).le(ZERO), tag)
              continue
            }
            const atMax = samplingRate({ ...params, fee: max })
            assert.equal(atMax.maxSecurableFee, max, tag)
            assert.ok(ref.E(max, s, q, Rational.fixed(atMax.rate)).le(ZERO), tag)
            assert.ok(ref.E(max + 1n, s, q, ONE).gt(ZERO), `${tag}: max + 1 is securable by the reference`)
            assert.throws(
              () => samplingRate({ ...params, fee: max + 1n }),
              (e: unknown) => e instanceof SamplingError && e.code === 'FEE_NOT_SECURABLE' && e.message.includes(`the largest securable fee is ${max} uberyl`),
              tag,
            )
          }
    })

    it('an exactly break-even fee (n = 4, f = 33%: q = 2/3, s/2) is accepted at r = 1, not refused by a rounded q', () => {
      const q = ref.q(4n, ref.d(4n, GRID_SHARES[3]!))
      assert.ok(q.eq(new Rational(2n, 3n)))
      const res = samplingRate({ fee: 200n * BERYL, minStake: 400n * BERYL, eligibleNodes: 4n, dishonestShare: GRID_SHARES[3]! })
      assert.equal(res.rate, S)
      assert.ok(ref.E(200n * BERYL, 400n * BERYL, q, ONE).eq(ZERO))
      assert.equal(res.expectedProfit, 0n)
    })

    it('fee 0 gets r_min on every network and stake', () => {
      for (const n of GRID_NODES)
        for (const f of GRID_SHARES)
          for (const s of [0n, ...GRID_STAKES]) {
            assert.equal(samplingRate({ fee: 0n, minStake: s, eligibleNodes: n, dishonestShare: f }).rate, DEFAULT_MIN_RATE)
            assert.equal(samplingRate({ fee: 0n, minStake: s, eligibleNodes: n, dishonestShare: f, minRate: 0n }).rate, 0n)
          }
    })

    it('expectedProfit is E · 10^36 rounded up: never below the exact E, and <= 0', () => {
      for (const c of GRID()) {
        if (!accepted(c)) continue
        const res = c.outcome as ReturnType<typeof samplingRate>
        const E = ref.E(c.k, c.s, c.q, Rational.fixed(res.rate))
        assert.equal(res.expectedProfit, E.mul(Rational.of(PROFIT_SCALE)).ceil(), label(c))
        assert.ok(res.expectedProfit <= 0n, label(c))
      }
    })
  })

  describe('seats paid (the chain default, docs/decisions/0025): a captured group pays the ring for each seat it holds', () => {
    /** Every (n, f, s) of the grid with its reference d, q and g. */
    function* networks(): Generator<{ n: bigint; f: bigint; s: bigint; d: bigint; q: Rational; g: Rational }> {
      for (const n of GRID_NODES)
        for (const f of GRID_SHARES)
          for (const s of GRID_STAKES) {
            const d = ref.d(n, f)
            yield { n, f, s, d, q: ref.q(n, d), g: ref.g(n, d) }
          }
    }
    const paid = (k: bigint, s: bigint, n: bigint, f: bigint) => samplingRate({ fee: k, minStake: s, eligibleNodes: n, dishonestShare: f, seatsPaid: true })

    it('g is the fees a sampled T1 pays the attacker, averaged over every 2-subset of seats (n = 3..14, every d)', () => {
      for (let n = 3; n <= 14; n++)
        for (let d = 0; d <= n; d++) {
          // Nodes 0..d-1 are the attacker's; node 0 holds T1. A held seat makes the fake win: T1 and each held seat are paid.
          let fees = 0,
            total = 0
          for (let a = 1; a < n; a++)
            for (let b = a + 1; b < n; b++) {
              total++
              const held = (a < d ? 1 : 0) + (b < d ? 1 : 0)
              if (d > 0 && held > 0) fees += 1 + held
            }
          const g = attackerGainFraction(BigInt(n), BigInt(d), true)
          assert.ok(new Rational(g.num, g.den).eq(new Rational(BigInt(fees), BigInt(total))), `n=${n} d=${d}: ${g.num}/${g.den} vs ${fees}/${total}`)
          assert.ok(new Rational(g.num, g.den).eq(ref.g(BigInt(n), BigInt(d))), `n=${n} d=${d}`)
          assert.deepEqual(attackerGainFraction(BigInt(n), BigInt(d), false), attackerSeatFraction(BigInt(n), BigInt(d)), 'one fee shared: g = q')
        }
    })

    it('every accepted task of the grid leaves E <= 0 at the least fixed-point rate; a fee is refused exactly when r = 1 cannot secure it', () => {
      let acceptedCount = 0,
        refused = 0,
        above = 0
      for (const { n, f, s, q, g } of networks()) {
        for (const k of GRID_FEES) {
          const tag = `n=${n} f=${f}/${S} s=${s} k=${k}`
          let res: ReturnType<typeof samplingRate>
          try {
            res = paid(k, s, n, f)
          } catch (e) {
            if (!(e instanceof SamplingError) || e.code !== 'FEE_NOT_SECURABLE') throw e
            refused++
            assert.ok(ref.E(k, s, q, ONE, g).gt(ZERO), `${tag}: refused, but r = 1 secures it`)
            continue
          }
          acceptedCount++
          assert.ok(ref.E(k, s, q, ONE, g).le(ZERO), `${tag}: accepted, but r = 1 does not secure it`)
          assert.deepEqual(res.gainExact, { num: g.num, den: g.den }, tag)
          const E = ref.E(k, s, q, Rational.fixed(res.rate), g)
          assert.ok(E.le(ZERO), `${tag}: E = ${E}`)
          assert.equal(res.expectedProfit, E.mul(Rational.of(PROFIT_SCALE)).ceil(), tag)
          if (res.rate > DEFAULT_MIN_RATE) {
            above++
            assert.ok(ref.E(k, s, q, Rational.fixed(res.rate - 1n), g).gt(ZERO), `${tag}: not the least rate`)
          }
        }
      }
      assert.ok(acceptedCount > 2500 && refused > 100 && above > 1000, `${acceptedCount} accepted, ${refused} refused, ${above} above r_min`)
    })

    it('the largest securable fee is floor((1 − q)s / g): accepted, and one uberyl more refused with that fee in the message', () => {
      for (const { n, f, s, d, q, g } of networks()) {
        const tag = `n=${n} f=${f} s=${s}`
        const max = ref.maxFee(s, q, g)
        assert.equal(maxSecurableFee(s, attackerSeatFraction(n, d), attackerGainFraction(n, d, true)), max, tag)
        if (max === null) continue
        assert.equal(paid(max, s, n, f).maxSecurableFee, max, tag)
        assert.throws(
          () => paid(max + 1n, s, n, f),
          (e: unknown) => e instanceof SamplingError && e.code === 'FEE_NOT_SECURABLE' && e.message.includes(`the largest securable fee is ${max} uberyl`),
          tag,
        )
      }
    })

    it('a ring paid for its seats at the one-fee rate profits: +1.36 BERYL per 50 BERYL task (n = 1000, f = 10%, s = 400 BERYL); the seat-paid rate leaves it E <= 0', () => {
      const n = 1000n,
        f = DEFAULT_DISHONEST_SHARE,
        s = DEFAULT_MIN_STAKE,
        k = 50n * BERYL
      const d = ref.d(n, f)
      const oneFee = samplingRate({ fee: k, minStake: s, eligibleNodes: n, dishonestShare: f })
      const seatPaid = paid(k, s, n, f)
      const before = ref.E(k, s, ref.q(n, d), Rational.fixed(oneFee.rate), ref.g(n, d))
      assert.equal(before.toBeryl(), '1.3568')
      assert.ok(seatPaid.rate > oneFee.rate)
      assert.ok(ref.E(k, s, ref.q(n, d), Rational.fixed(seatPaid.rate), ref.g(n, d)).le(ZERO))
    })

    it('the default limits with seats paid (f = 10%, s = 400 BERYL): none at n = 10, 927.083333 BERYL at 100, 839.520007 at 1000, 831.636375 at 10 000', () => {
      const s = DEFAULT_MIN_STAKE
      assert.equal(paid(1n, s, 10n, DEFAULT_DISHONEST_SHARE).maxSecurableFee, null)
      for (const [n, beryl] of [
        [100n, '927.0833'],
        [1000n, '839.5200'],
        [10000n, '831.6364'],
      ] as const) {
        const d = ref.d(n, DEFAULT_DISHONEST_SHARE)
        const limit = paid(1n, s, n, DEFAULT_DISHONEST_SHARE).maxSecurableFee!
        assert.equal(Rational.of(limit).toBeryl(), beryl, `n=${n}`)
        assert.equal(limit, ref.maxFee(s, ref.q(n, d), ref.g(n, d)), `n=${n}`)
      }
    })

    it('rejects a non-boolean seatsPaid and a bad gain fraction', () => {
      expectSamplingError(() => samplingRate({ fee: 1n, minStake: 1n, eligibleNodes: 10n, seatsPaid: 'yes' as unknown as boolean }), 'INVALID_ARGUMENT')
      expectSamplingError(() => maxSecurableFee(1n, { num: 1n, den: 2n }, { num: -1n, den: 2n }), 'INVALID_ARGUMENT')
      expectSamplingError(() => expectedAttackerProfit(1n, 1n, { num: 1n, den: 2n }, S, { num: 1n, den: 0n }), 'INVALID_ARGUMENT')
    })
  })

  describe('samplingRate: floors, ends and arguments', () => {
    it('r_min is a configurable floor', () => {
      const cheap = { fee: 1n, minStake: DEFAULT_MIN_STAKE, eligibleNodes: 1000n }
      assert.equal(samplingRate(cheap).rate, DEFAULT_MIN_RATE)
      assert.equal(samplingRate({ ...cheap, minRate: S / 20n }).rate, S / 20n)
      const q = ref.q(1000n, 100n)
      assert.equal(samplingRate({ ...cheap, minRate: 0n }).rate, ref.rStar(1n, DEFAULT_MIN_STAKE, q)!.mul(Rational.of(S)).ceil())
    })

    it('an attacker certain of a seat (share 100%, q = 1) can secure no positive fee', () => {
      const params = { minStake: DEFAULT_MIN_STAKE, eligibleNodes: 50n, dishonestShare: S }
      assert.throws(
        () => samplingRate({ ...params, fee: 1n }),
        (e: unknown) => e instanceof SamplingError && e.code === 'FEE_NOT_SECURABLE' && /largest securable fee is 0 uberyl/.test(e.message),
      )
      const free = samplingRate({ ...params, fee: 0n })
      assert.equal(free.rate, DEFAULT_MIN_RATE)
      assert.equal(free.maxSecurableFee, 0n)
    })

    it('with q = 0 a stake of 0 needs r = k/k = 1 exactly: the limit is reached, not exceeded', () => {
      const full = samplingRate({ fee: 5n, minStake: 0n, eligibleNodes: 3n })
      assert.equal(full.rate, S)
      assert.equal(full.expectedProfit, 0n)
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
      for (const params of bad) expectSamplingError(() => samplingRate(params as never), 'INVALID_ARGUMENT')
      expectSamplingError(() => samplingRate(null as never), 'INVALID_ARGUMENT')
      expectSamplingError(() => attackerSeatFraction(10n, 11n), 'INVALID_ARGUMENT')
      expectSamplingError(() => maxSecurableFee(1n, { num: 2n, den: 1n }), 'INVALID_ARGUMENT')
      expectSamplingError(() => maxSecurableFee(1n, { num: 0n, den: 0n }), 'INVALID_ARGUMENT')
      expectSamplingError(() => expectedAttackerProfit(1n, 1n, { num: 1n, den: 2n }, S + 1n), 'INVALID_ARGUMENT')
    })

    it('uses no floating point, clocks or randomness in the module source', () => {
      const src = readFileSync(new URL('../../../modules/vss/sampling.ts', import.meta.url), 'utf8')
      for (const banned of [/\bMath\./, /\bDate\b/, /parseFloat/, /\bNumber\(/, /toLocale/, /toFixed/, /crypto/]) {
        assert.ok(!banned.test(src), `sampling.ts contains ${banned}`)
      }
    })
  })

  describe('expectedAttackerProfit', () => {
    it('is (1 − r)k + r(qk − (1 − q)s) rounded up to 10^-36 uberyl', () => {
      for (const [k, s, q, r] of [
        [BERYL, DEFAULT_MIN_STAKE, new Rational(1n, 40n), S / 100n],
        [10n ** 12n, 1n, new Rational(999n, 1000n), S],
        [0n, DEFAULT_MIN_STAKE, ZERO, 0n],
        [7n, 3n, new Rational(2n, 3n), 987654321n],
        [5n * BERYL, DEFAULT_MIN_STAKE, ref.q(1000n, 100n), (127n * S) / 10000n],
      ] as const) {
        const E = ref.E(k, s, q, Rational.fixed(r))
        assert.equal(expectedAttackerProfit(k, s, { num: q.num, den: q.den }, r), E.mul(Rational.of(PROFIT_SCALE)).ceil(), `k=${k} q=${q}`)
      }
    })

    it('no sampling (r = 0) pays the attacker the whole fee', () => {
      assert.equal(expectedAttackerProfit(5n * BERYL, DEFAULT_MIN_STAKE, { num: 1n, den: 5n }, 0n), 5n * BERYL * PROFIT_SCALE)
    })

    it("Crynux's fixed 1% is profitable to attack above 3.27 BERYL (n = 1000, f = 10%, s = 400 BERYL)", () => {
      const q = ref.q(1000n, 100n)
      const r = Rational.fixed(S / 100n)
      const s = DEFAULT_MIN_STAKE
      // E = k − r(1−q)(k+s) <= 0  ⇔  k <= r(1−q)s / (1 − r(1−q)).
      const rq = r.mul(ONE.sub(q))
      const breakEven = rq.mul(Rational.of(s)).div(ONE.sub(rq)).floor()
      assert.equal(Rational.of(breakEven).toBeryl(), '3.2727')
      const qx = { num: q.num, den: q.den }
      assert.ok(expectedAttackerProfit(breakEven, s, qx, S / 100n) <= 0n)
      assert.ok(expectedAttackerProfit(breakEven + 1n, s, qx, S / 100n) > 0n)
    })
  })

  describe("the issue's numbers (n = 1000, f = 10%, s = 400 BERYL)", () => {
    const n = 1000n
    const s = DEFAULT_MIN_STAKE
    const d = 100n
    const q = ref.q(n, d)
    const p = ref.p(n, d)
    /** The old rate: max(r_min, k/((1 − p)(k + s))), with the old p. */
    const oldRate = (k: bigint) => {
      const r = Rational.of(k).div(ONE.sub(p).mul(Rational.of(k + s)))
      return r.lt(Rational.fixed(DEFAULT_MIN_RATE)) ? Rational.fixed(DEFAULT_MIN_RATE) : r
    }

    it('the old p-based rate for a 5 BERYL task was 1.27%', () => {
      const r = oldRate(5n * BERYL)
      assert.ok(r.gt(new Rational(1269n, 100000n)) && r.lt(new Rational(1270n, 100000n)), `r=${r}`)
    })

    it('under the old rate the attacker earns +0.8264 BERYL per 5 BERYL task and +8.2638 per 50 BERYL task (the issue said +7.3 for 50)', () => {
      // Above r_min, E = k(q − p)/(1 − p): linear in the fee and independent of the stake.
      const e5 = ref.E(5n * BERYL, s, q, oldRate(5n * BERYL))
      const e50 = ref.E(50n * BERYL, s, q, oldRate(50n * BERYL))
      assert.ok(
        e5.eq(
          Rational.of(5n * BERYL)
            .mul(q.sub(p))
            .div(ONE.sub(p)),
        ),
      )
      assert.equal(e5.toBeryl(), '0.8264')
      assert.equal(e50.toBeryl(), '8.2638')
      assert.ok(e50.eq(e5.mul(Rational.of(10n))))
    })

    it('the new rates (1.52% and 13.69%) leave the same attacker E <= 0', () => {
      for (const [k, lo, hi] of [
        [5n * BERYL, 1521n, 1522n],
        [50n * BERYL, 13691n, 13692n],
      ] as const) {
        const res = samplingRate({ fee: k, minStake: s, eligibleNodes: n })
        const r = Rational.fixed(res.rate)
        assert.ok(r.gt(new Rational(lo, 100000n)) && r.lt(new Rational(hi, 100000n)), `k=${k}: r=${r}`)
        assert.ok(ref.E(k, s, q, r).le(ZERO))
        assert.ok(res.expectedProfit <= 0n)
      }
    })

    it('the default limits (f = 10%, s = 400 BERYL): none at n = 10, 1893.617021 BERYL at 100, 1722.387201 at 1000, 1706.960144 at 10 000', () => {
      const expected: Array<[bigint, bigint | null]> = [
        [10n, null],
        [100n, 1_893_617_021n],
        [1000n, 1_722_387_201n],
        [10000n, 1_706_960_144n],
      ]
      for (const [nodes, limit] of expected) {
        const dn = ref.d(nodes, DEFAULT_DISHONEST_SHARE)
        assert.equal(ref.maxFee(s, ref.q(nodes, dn)), limit, `reference, n=${nodes}`)
        assert.equal(samplingRate({ fee: 1n, minStake: s, eligibleNodes: nodes }).maxSecurableFee, limit, `n=${nodes}`)
      }
      // As n grows q → 1 − 0.9² = 0.19 and the limit → 400 · 0.81/0.19 ≈ 1705.26 BERYL.
      assert.equal(Rational.of(s).mul(new Rational(81n, 19n)).toBeryl(), '1705.2632')
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
