// Fee-adaptive sampling rate for verifiable secret sampling (VSS).
//
// Crynux validates a fixed fraction r of tasks (1% on its relay). A sampled
// task is run by a group of 3 nodes: the node that took the task (T1) and two
// validation seats. A node whose result disagrees with the group's majority is
// slashed. The attack to price is a Sybil attacker who runs d of the n nodes
// eligible for a task, lets its node take the task, and returns a fake result
// instead of doing the work.
//
// The attacker is analysed AFTER its node holds T1, because that is when it
// decides to cheat: it cheats only on tasks it already holds. The chain then
// draws the 2 validation seats uniformly, without replacement, from the n − 1
// other eligible nodes, of which h = n − d are honest. The fake wins the group
// (it is matched, an honest member is outvoted and slashed, the attacker is
// paid) if the attacker holds at least 1 of the 2 seats:
//
//   q = 1 − C(h,2) / C(n−1,2)                       (≈ 2f for a share f = d/n)
//
// Crynux's docs price the attack with p(h,d), the chance that a uniformly
// drawn group of 3 holds ≥ 2 attacker nodes (≈ 3f², 2.8% at f = 10%). That is
// the odds of an attacker who does not yet hold T1; the one who does wins
// with q (18.85% at f = 10%, n = 1000). An earlier version of this file used
// p, which left the attack profitable on 1 000 nodes at f = 10% and a
// 400 BERYL stake for every fee it accepted above about 3.3 BERYL (by 16.5%
// of the fee once the rate rose above its floor).
//
// If the task is not sampled (probability 1 − r) the attacker is paid the fee
// k for nothing. If it is sampled and the attacker holds a seat (q), it is
// paid k; if it holds none, two honest results outvote the fake and it loses
// its stake s. Its expected profit per task is
//
//   E = (1 − r)·k + r·(q·k − (1 − q)·s)  =  k − r·(1 − q)·(k + s)
//
// That is the payoff under Crynux's settlement, where the group shares the
// representative's one fee and the seats' fees go back to the creator. Beryl
// pays every matching member its own fee instead (docs/decisions/0025; the
// vss param split_group_fee = true restores Crynux's rule), so an attacker
// that captures the group is also paid for each seat it holds: k per seat,
// 2(d − 1)/(n − 1) seats on average. With g the fees it expects from a
// sampled task it captures,
//
//   g = q                          (split_group_fee: one fee, shared)
//   g = q + 2(d − 1)/(n − 1)       (each member paid its own fee)
//
// the profit is E = (1 − r)·k + r·(g·k − (1 − q)·s) = k − r·((1 − g)·k + (1 − q)·s).
//
// Beryl fixes r per task at creation, as the least rate with E ≤ 0:
//
//   r = max(r_min, k / ((1 − g)·k + (1 − q)·s))
//
// with s the chain's minimum stake (the least an attacker node can have at
// risk). When that exceeds 1, i.e. g·k > (1 − q)·s, even validating every
// task leaves E > 0: the task is refused (FEE_NOT_SECURABLE) and the message
// names the largest securable fee, floor((1 − q)·s / g).
//
// n is the number of nodes eligible for the task in front of us (the serving
// nodes that meet every filter of the task), because the two seats are drawn
// from those nodes only: a task that few nodes can run is easier to capture.
//
// Everything here runs in consensus on every validator, so it uses bigint
// integers only. q is kept as an exact fraction and enters the rate through a
// single division, rounded up; every rounding goes the way that can only make
// the attack less profitable. No step depends on platform floating point,
// clocks or locale.

import { RuleError } from '../../chain/errors.ts'
import { SCALE, UBERYL_PER_BERYL } from '../common/amounts.ts'

/**
 * Fixed-point scale for probabilities, rates and shares: the chain's one
 * 18-decimal scale (v stands for v / 10^18). 18 decimals make the rounding
 * error (at most 10^-18 per rounding) negligible next to any fee/stake ratio,
 * while staying far inside what bigint handles cheaply.
 */
export const RATE_SCALE = SCALE

/**
 * Scale of expected-profit values: E is reported as E · RATE_SCALE² uberyl,
 * i.e. in units of 10^-36 uberyl (see expectedAttackerProfit).
 */
export const PROFIT_SCALE = RATE_SCALE * RATE_SCALE

/** 1 BERYL = 1 000 000 uberyl; all amounts here are bigint uberyl. */
export { UBERYL_PER_BERYL }

/** Crynux's 400-token node stake, carried over as the default min_stake. */
export const DEFAULT_MIN_STAKE = 400n * UBERYL_PER_BERYL

/** r_min = 1%: Crynux's current relay rate becomes our floor. */
export const DEFAULT_MIN_RATE = RATE_SCALE / 100n

/** assumed_dishonest_share = 10% of eligible nodes. */
export const DEFAULT_DISHONEST_SHARE = RATE_SCALE / 10n

/** A validation group is the original task plus two copies: the one place this number is written. */
export const VALIDATION_GROUP_SIZE = 3n

/** 2^512: beta is a 64-byte SHA-512 output. */
const BETA_RANGE = 1n << 512n
const BETA_LENGTH = 64

export type SamplingErrorCode =
  /** Fewer than 3 eligible nodes: a validation group could never form. */
  | 'TOO_FEW_ELIGIBLE_NODES'
  /** Even validating every task (r = 1) leaves the attacker E > 0. */
  | 'FEE_NOT_SECURABLE'
  /** A parameter is of the wrong type or outside its range. */
  | 'INVALID_ARGUMENT'

/** The error of the sampling rules, with a machine-readable code. */
export class SamplingError extends RuleError<SamplingErrorCode> {}

/** A probability as an exact fraction num/den in lowest terms, 0 ≤ num ≤ den, den > 0. */
export interface ExactProbability {
  num: bigint
  den: bigint
}

function requireBigint(name: string, v: unknown, min: bigint, max?: bigint): bigint {
  if (typeof v !== 'bigint') throw new SamplingError('INVALID_ARGUMENT', `${name} must be a bigint`)
  if (v < min || (max !== undefined && v > max)) {
    throw new SamplingError('INVALID_ARGUMENT', max === undefined ? `${name} must be >= ${min}, got ${v}` : `${name} must be in [${min}, ${max}], got ${v}`)
  }
  return v
}

function requireProbability(name: string, q: unknown): ExactProbability {
  if (q === null || typeof q !== 'object') throw new SamplingError('INVALID_ARGUMENT', `${name} must be {num, den}`)
  const { num, den } = q as ExactProbability
  requireBigint(`${name}.den`, den, 1n)
  requireBigint(`${name}.num`, num, 0n, den)
  return { num, den }
}

/** A non-negative exact fraction num/den, den > 0 (g may exceed 1). */
export interface ExactFraction {
  num: bigint
  den: bigint
}

function requireFraction(name: string, f: unknown): ExactFraction {
  if (f === null || typeof f !== 'object') throw new SamplingError('INVALID_ARGUMENT', `${name} must be {num, den}`)
  const { num, den } = f as ExactFraction
  requireBigint(`${name}.den`, den, 1n)
  requireBigint(`${name}.num`, num, 0n)
  return { num, den }
}

/** q and g over one denominator D: q = qn/D, g = gn/D. */
function overOneDenominator(q: ExactProbability, g: ExactFraction): { qn: bigint; gn: bigint; D: bigint } {
  if (q.den === g.den) return { qn: q.num, gn: g.num, D: q.den }
  return { qn: q.num * g.den, gn: g.num * q.den, D: q.den * g.den }
}

/** ceil(a / b) for b > 0 and any sign of a (bigint division truncates toward zero). */
function ceilDiv(a: bigint, b: bigint): bigint {
  return a > 0n ? (a + b - 1n) / b : a / b
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

/**
 * q as an exact fraction: the probability that an attacker who runs d of the
 * n eligible nodes, one of which holds T1, gets at least 1 of the 2
 * validation seats drawn uniformly from the other n − 1 nodes:
 *
 *   q = 1 − C(h,2) / C(n−1,2) = 1 − h(h−1) / ((n−1)(n−2)),   h = n − d.
 *
 * d = 1 (the attacker owns only T1's node) gives q = 0; h ≤ 1 gives q = 1
 * (two honest seats cannot be filled). d = 0 means there is no attacker to
 * hold T1 and gives q = 0: nobody can win a seat for it.
 */
export function attackerSeatFraction(eligibleNodes: bigint, dishonestNodes: bigint): ExactProbability {
  const n = requireBigint('eligibleNodes', eligibleNodes, 0n)
  const d = requireBigint('dishonestNodes', dishonestNodes, 0n, n)
  if (n < VALIDATION_GROUP_SIZE) {
    throw new SamplingError('TOO_FEW_ELIGIBLE_NODES', `q needs n >= ${VALIDATION_GROUP_SIZE} eligible nodes, got ${n}`)
  }
  if (d === 0n) return { num: 0n, den: 1n }
  const h = n - d
  const den = (n - 1n) * (n - 2n)
  const num = den - h * (h - 1n)
  const g = gcd(num, den)
  return { num: num / g, den: den / g }
}

/**
 * g, the fees an attacker holding T1 expects from a sampled task it captures, as an exact fraction (it may
 * exceed 1 when seats are paid): q when the group shares one fee (`seatsPaid` false, Crynux's rule), and
 * q + 2(d − 1)/(n − 1) when each matching member is paid its own fee: T1's fee whenever it holds a seat, plus
 * one fee for every seat it holds (each of the 2 seats is one of its d − 1 other nodes with probability
 * (d − 1)/(n − 1)). Over the same denominator (n − 1)(n − 2) as q before reduction.
 */
export function attackerGainFraction(eligibleNodes: bigint, dishonestNodes: bigint, seatsPaid: boolean): ExactProbability {
  const q = attackerSeatFraction(eligibleNodes, dishonestNodes)
  if (!seatsPaid || dishonestNodes <= 1n) return q
  const n = eligibleNodes
  const den = (n - 1n) * (n - 2n)
  const num = den - (n - dishonestNodes) * (n - dishonestNodes - 1n) + 2n * (dishonestNodes - 1n) * (n - 2n)
  const g = gcd(num, den)
  return { num: num / g, den: den / g }
}

/**
 * q in RATE_SCALE fixed point, rounded UP, for display and queries. The rate
 * itself is computed from the exact fraction; had it used this value, the
 * second rounding (q up, then r up) would refuse fees the exact q can secure
 * (at n = 4, d = 2, q = 2/3 exactly, a 200 BERYL fee against a 400 BERYL stake
 * is exactly securable at r = 1, and q rounded up would refuse it). Rounding
 * up is still the right way for the displayed value: E grows with q, so
 * anyone reusing it can only overstate the attacker's odds.
 */
export function attackerSeatProbability(eligibleNodes: bigint, dishonestNodes: bigint): bigint {
  const { num, den } = attackerSeatFraction(eligibleNodes, dishonestNodes)
  return ceilDiv(num * RATE_SCALE, den)
}

/**
 * d = ceil(share · n). Rounding UP is against the attacker: for a fixed n, q
 * never falls as d grows (one more attacker node is one fewer honest node for
 * the seats), so the largest d consistent with the assumed share gives the
 * largest q and hence the largest r.
 *
 * For n ≥ 1 and any share > 0 this is at least 1, and it must be: q is the
 * attacker's chance once its node holds T1, so an attacker that is assumed to
 * exist at all owns at least that node. Flooring would assume it away on
 * small networks (10% of 9 nodes is 0.9).
 */
export function dishonestNodeCount(eligibleNodes: bigint, dishonestShare: bigint): bigint {
  requireBigint('eligibleNodes', eligibleNodes, 0n)
  requireBigint('dishonestShare', dishonestShare, 0n, RATE_SCALE)
  return ceilDiv(eligibleNodes * dishonestShare, RATE_SCALE)
}

/**
 * E = (1 − r)·k + r·(g·k − (1 − q)·s) in PROFIT_SCALE units (E · 10^36
 * uberyl), rounded UP to the next unit: the reported profit is never less
 * than the true one, and its sign is exact (ceil(x) ≤ 0 exactly when x ≤ 0).
 * q and g are exact (g defaults to q: the group shares one fee), r is
 * RATE_SCALE fixed point, fee k and stake s are uberyl. Signed: > 0 means the
 * attack pays.
 *
 * With r = R/S, q = a/b and g = c/e over D = b·e, the formula is
 * k − r·((1 − g)·k + (1 − q)·s), so
 *   E · S² = (k·S·D − R·((D − c·b)·k + (D − a·e)·s)) · S / D,
 * exact whenever D divides the numerator, otherwise rounded up by less than
 * 10^-36 uberyl.
 */
export function expectedAttackerProfit(fee: bigint, stake: bigint, q: ExactProbability, rate: bigint, gain?: ExactFraction): bigint {
  requireBigint('fee', fee, 0n)
  requireBigint('stake', stake, 0n)
  const { qn, gn, D } = overOneDenominator(requireProbability('q', q), gain === undefined ? q : requireFraction('gain', gain))
  requireBigint('rate', rate, 0n, RATE_SCALE)
  const S = RATE_SCALE
  return ceilDiv((fee * S * D - rate * ((D - gn) * fee + (D - qn) * stake)) * S, D)
}

/**
 * The largest fee that some r ≤ 1 secures: the largest k with
 * g·k ≤ (1 − q)·s (E at r = 1), that is floor((1 − q)·s / g), exactly.
 * null when g = 0: then every fee can be secured. 0 when q = 1: no positive
 * fee can. Clients use it to explain a FEE_NOT_SECURABLE refusal.
 */
export function maxSecurableFee(stake: bigint, q: ExactProbability, gain?: ExactFraction): bigint | null {
  requireBigint('stake', stake, 0n)
  const { qn, gn, D } = overOneDenominator(requireProbability('q', q), gain === undefined ? q : requireFraction('gain', gain))
  if (gn === 0n) return null
  return ((D - qn) * stake) / gn
}

export interface SamplingRateParams {
  /** Task fee k, uberyl. */
  fee: bigint
  /** Stake per node s (the chain's min_stake), uberyl. */
  minStake: bigint
  /** n: serving nodes that meet every filter of this task. Must be >= 3. */
  eligibleNodes: bigint
  /** assumed_dishonest_share in RATE_SCALE fixed point; default 10%. */
  dishonestShare?: bigint
  /** r_min in RATE_SCALE fixed point; default 1%. */
  minRate?: bigint
  /**
   * Whether each matching member of a validation group is paid its own fee (the chain's default, vss param
   * split_group_fee = false) rather than sharing the representative's one fee (Crynux's rule). Default false here:
   * the pure formula's default is the one fee shared; the keeper passes the chain's setting.
   */
  seatsPaid?: boolean
}

export interface SamplingRateResult {
  /** r, RATE_SCALE fixed point, in [minRate, RATE_SCALE]. Store it on the task. */
  rate: bigint
  /** q, RATE_SCALE fixed point, rounded up (for display; the rate uses qExact). */
  q: bigint
  /** q as the exact fraction the rate was computed from. */
  qExact: ExactProbability
  /** g, the fees a captured sampled task pays the attacker (q, or q + 2(d − 1)/(n − 1) with seats paid). */
  gainExact: ExactFraction
  /** h = n − d and d used for q. */
  honestNodes: bigint
  dishonestNodes: bigint
  /** E for (fee, minStake, qExact, rate) in PROFIT_SCALE units, rounded up; always <= 0. */
  expectedProfit: bigint
  /** The largest fee this network can secure with this stake; null when every fee can be. */
  maxSecurableFee: bigint | null
}

/**
 * r = max(r_min, k / ((1 − g)·k + (1 − q)·s)), or FEE_NOT_SECURABLE (with
 * g = q, the one-fee rule, this is k / ((1 − q)(k + s))).
 *
 * - d = ceil(share · n), h = n − d (see dishonestNodeCount).
 * - q is the exact fraction num/den (see attackerSeatFraction).
 * - r = ceil(k·S·den / ((den − num)(k + s))): the exact least rate, rounded
 *   UP to the next 10^-18, so r* ≤ r < r* + 10^-18. E = k − r(1 − q)(k + s)
 *   is strictly decreasing in r when q < 1, so rounding up keeps E ≤ 0.
 * - The exact r* exceeds 1 exactly when q·k > (1 − q)·s, which is when E at
 *   r = 1 is positive: validating every task still pays the attacker. Capping
 *   r at 1 there would accept an insecure task, so the task is refused, and
 *   the message names maxSecurableFee. The test is exact (on the fraction),
 *   so the largest securable fee is accepted and one uberyl more is refused.
 * - r never falls as the fee rises: k / (k + s) rises with k, and ceil and
 *   max(r_min, ·) keep order.
 * - fee = 0 gives r = r_min (the attacker has nothing to gain).
 *
 * With the defaults (s = 400 BERYL, 10% share, seats paid) the largest
 * securable fee is 927.1 BERYL at 100 nodes, 839.5 at 1 000 and 831.6 at
 * 10 000, tending to 400 · 0.81 / 0.39 ≈ 830.8 BERYL as n grows (q → 19%,
 * g → 0.19 + 0.2); under the one-fee rule (g = q) it is 1 893.6, 1 722.4 and
 * 1 707.0, tending to 400 · 0.81 / 0.19 ≈ 1 705.3. Networks of 3..10 nodes
 * have d = 1, q = g = 0 and no limit.
 */
export function samplingRate(params: SamplingRateParams): SamplingRateResult {
  if (params === null || typeof params !== 'object') {
    throw new SamplingError('INVALID_ARGUMENT', 'samplingRate expects a parameter object')
  }
  const S = RATE_SCALE
  const fee = requireBigint('fee', params.fee, 0n)
  const minStake = requireBigint('minStake', params.minStake, 0n)
  const n = requireBigint('eligibleNodes', params.eligibleNodes, 0n)
  const share = requireBigint('dishonestShare', params.dishonestShare ?? DEFAULT_DISHONEST_SHARE, 0n, S)
  const minRate = requireBigint('minRate', params.minRate ?? DEFAULT_MIN_RATE, 0n, S)
  const seatsPaid = params.seatsPaid ?? false
  if (typeof seatsPaid !== 'boolean') throw new SamplingError('INVALID_ARGUMENT', 'seatsPaid must be a boolean')

  if (n < VALIDATION_GROUP_SIZE) {
    throw new SamplingError('TOO_FEW_ELIGIBLE_NODES', `only ${n} eligible node(s) for this task; a validation group needs ${VALIDATION_GROUP_SIZE}`)
  }

  const d = dishonestNodeCount(n, share)
  const qExact = attackerSeatFraction(n, d)
  const gainExact = attackerGainFraction(n, d, seatsPaid)
  const { num, den } = qExact
  const { qn, gn, D } = overOneDenominator(qExact, gainExact)
  const cap = maxSecurableFee(minStake, qExact, gainExact)

  let raw = 0n
  if (fee > 0n) {
    if (gn * fee > (D - qn) * minStake) {
      throw new SamplingError(
        'FEE_NOT_SECURABLE',
        `fee ${fee} uberyl cannot be secured by stake ${minStake} uberyl with ${n} eligible nodes ` +
          `(an attacker with ${d} of them wins a validation seat with probability q = ${num}/${den}` +
          (seatsPaid ? ` and is paid ${gainExact.num}/${gainExact.den} fees when it does` : '') +
          `): even validating every task leaves a Sybil attack profitable; the largest securable fee is ${cap} uberyl`,
      )
    }
    // Accepted and fee > 0 give (D − gn)·k + (D − qn)·s >= D·k > 0, so the divisor is positive.
    raw = ceilDiv(fee * S * D, (D - gn) * fee + (D - qn) * minStake)
  }
  const rate = raw > minRate ? raw : minRate
  return {
    rate,
    q: ceilDiv(num * S, den),
    qExact,
    gainExact,
    honestNodes: n - d,
    dishonestNodes: d,
    expectedProfit: expectedAttackerProfit(fee, minStake, qExact, rate, gainExact),
    maxSecurableFee: cap,
  }
}

/**
 * The smallest beta (as an integer) that is NOT selected at this rate:
 * beta is selected iff beta < ceil(rate · 2^512 / RATE_SCALE).
 */
export function selectionThreshold(rate: bigint): bigint {
  requireBigint('rate', rate, 0n, RATE_SCALE)
  return ceilDiv(rate * BETA_RANGE, RATE_SCALE)
}

/**
 * u = beta / 2^512 < r, decided exactly as beta · RATE_SCALE < r · 2^512.
 *
 * beta is read as a BIG-endian unsigned integer. RFC 9381 defines beta only
 * as an octet string, so any fixed reading is sound; big-endian is the one
 * Crynux uses (its relay reads the VRF output big-endian) and the one people
 * get when they paste the hex into a big-integer tool. It must never change
 * once tasks exist, since every validator has to reach the same decision.
 *
 * rate = RATE_SCALE selects every beta; rate = 0 selects none.
 */
export function isSelectedForValidation(beta: Uint8Array, rate: bigint): boolean {
  if (!(beta instanceof Uint8Array) || beta.length !== BETA_LENGTH) {
    throw new SamplingError('INVALID_ARGUMENT', `beta must be a Uint8Array of ${BETA_LENGTH} bytes`)
  }
  requireBigint('rate', rate, 0n, RATE_SCALE)
  let u = 0n
  for (const byte of beta) u = (u << 8n) | BigInt(byte)
  return u * RATE_SCALE < rate * BETA_RANGE
}
