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
// Beryl fixes r per task at creation, as the least rate with E ≤ 0:
//
//   r = max(r_min, k / ((1 − q)(k + s)))
//
// with s the chain's minimum stake (the least an attacker node can have at
// risk). When k / ((1 − q)(k + s)) > 1, i.e. q·k > (1 − q)·s, even validating
// every task leaves E > 0: the task is refused (FEE_NOT_SECURABLE) and the
// message names the largest securable fee, floor((1 − q)·s / q).
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
 * E = (1 − r)·k + r·(q·k − (1 − q)·s) in PROFIT_SCALE units (E · 10^36
 * uberyl), rounded UP to the next unit: the reported profit is never less
 * than the true one, and its sign is exact (ceil(x) ≤ 0 exactly when x ≤ 0).
 * q is exact, r is RATE_SCALE fixed point, fee k and stake s are uberyl.
 * Signed: > 0 means the attack pays.
 *
 * With r = R/S and q = num/den the formula is k − r·(1 − q)·(k + s), so
 *   E · S² = (k·S·den − R·(den − num)·(k + s)) · S / den,
 * exact whenever den divides the numerator, otherwise rounded up by less
 * than 10^-36 uberyl.
 */
export function expectedAttackerProfit(fee: bigint, stake: bigint, q: ExactProbability, rate: bigint): bigint {
  requireBigint('fee', fee, 0n)
  requireBigint('stake', stake, 0n)
  const { num, den } = requireProbability('q', q)
  requireBigint('rate', rate, 0n, RATE_SCALE)
  const S = RATE_SCALE
  return ceilDiv((fee * S * den - rate * (den - num) * (fee + stake)) * S, den)
}

/**
 * The largest fee that some r ≤ 1 secures: the largest k with
 * q·k ≤ (1 − q)·s (E at r = 1), that is floor((1 − q)·s / q), exactly.
 * null when q = 0: then every fee can be secured. 0 when q = 1: no positive
 * fee can. Clients use it to explain a FEE_NOT_SECURABLE refusal.
 */
export function maxSecurableFee(stake: bigint, q: ExactProbability): bigint | null {
  requireBigint('stake', stake, 0n)
  const { num, den } = requireProbability('q', q)
  if (num === 0n) return null
  return ((den - num) * stake) / num
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
}

export interface SamplingRateResult {
  /** r, RATE_SCALE fixed point, in [minRate, RATE_SCALE]. Store it on the task. */
  rate: bigint
  /** q, RATE_SCALE fixed point, rounded up (for display; the rate uses qExact). */
  q: bigint
  /** q as the exact fraction the rate was computed from. */
  qExact: ExactProbability
  /** h = n − d and d used for q. */
  honestNodes: bigint
  dishonestNodes: bigint
  /** E for (fee, minStake, qExact, rate) in PROFIT_SCALE units, rounded up; always <= 0. */
  expectedProfit: bigint
  /** The largest fee this network can secure with this stake; null when every fee can be. */
  maxSecurableFee: bigint | null
}

/**
 * r = max(r_min, k / ((1 − q)(k + s))), or FEE_NOT_SECURABLE.
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
 * With the defaults (s = 400 BERYL, 10% share) the largest securable fee is
 * 1 893.6 BERYL at 100 nodes, 1 722.4 at 1 000 and 1 707.0 at 10 000, tending
 * to 400 · 0.81 / 0.19 ≈ 1 705.3 BERYL as n grows (q → 1 − 0.9² = 19%);
 * networks of 3..10 nodes have d = 1, q = 0 and no limit.
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

  if (n < VALIDATION_GROUP_SIZE) {
    throw new SamplingError('TOO_FEW_ELIGIBLE_NODES', `only ${n} eligible node(s) for this task; a validation group needs ${VALIDATION_GROUP_SIZE}`)
  }

  const d = dishonestNodeCount(n, share)
  const qExact = attackerSeatFraction(n, d)
  const { num, den } = qExact
  const cap = maxSecurableFee(minStake, qExact)

  let raw = 0n
  if (fee > 0n) {
    if (num * fee > (den - num) * minStake) {
      throw new SamplingError(
        'FEE_NOT_SECURABLE',
        `fee ${fee} uberyl cannot be secured by stake ${minStake} uberyl with ${n} eligible nodes ` +
          `(an attacker with ${d} of them wins a validation seat with probability q = ${num}/${den}): ` +
          `even validating every task leaves a Sybil attack profitable; the largest securable fee is ${cap} uberyl`,
      )
    }
    // Accepted and fee > 0 imply num < den, so the divisor is positive.
    raw = ceilDiv(fee * S * den, (den - num) * (fee + minStake))
  }
  const rate = raw > minRate ? raw : minRate
  return {
    rate,
    q: ceilDiv(num * S, den),
    qExact,
    honestNodes: n - d,
    dishonestNodes: d,
    expectedProfit: expectedAttackerProfit(fee, minStake, qExact, rate),
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
