// Fee-adaptive sampling rate for verifiable secret sampling (VSS).
//
// Crynux validates a fixed fraction r of tasks (1% on its relay). A Sybil
// attacker who runs d of the h + d nodes answers every task with a fake
// result. Crynux's consensus-protocol docs (our copy:
// ../shared/seeds/001_b4a2c653fcd7c155.txt, "Sybil Attack"; also
// ../shared/reference/crynux.md §6.4) give the attacker's odds and income:
//
//   p(h,d) = (C(d,2)·C(h,1) + C(d,3)) / C(d+h,3)
//   E      = (1 − r)·k + r·(p·k − (1 − p)·s)
//
// where k = task fee, s = stake per node, r = sampling rate. With a fixed r,
// E grows linearly in k, so a fixed 1% with a 400 stake is profitable to
// attack above a fee of about 4 (see the tests). Beryl instead fixes r per
// task at creation, solving E ≤ 0 for r:
//
//   r = min(1, max(r_min, k / ((1 − p)(s + k))))
//
// and refuses to create a task for which even r = 1 leaves E > 0 (see
// samplingRate for why the min(1, ·) cap can therefore never be what makes a
// task "secure").
//
// Everything here runs in consensus on every validator, so it uses bigint
// integers only: probabilities and rates are fixed-point with RATE_SCALE, and
// every division rounds in the direction that can only make the attack less
// profitable. No step depends on platform floating point, clocks or locale.

/**
 * Fixed-point scale for probabilities, rates and shares: the value v stands
 * for v / 10^18. 18 decimals make the rounding error (at most 10^-18 per
 * rounding) negligible next to any fee/stake ratio, while staying far inside
 * what bigint handles cheaply.
 */
export const RATE_SCALE = 10n ** 18n

/**
 * Scale of expected-profit values: E · RATE_SCALE² is an exact integer when p
 * and r are RATE_SCALE fixed-point values and k, s are integers, so E is
 * reported in units of 10^-36 uberyl with no rounding at all.
 */
export const PROFIT_SCALE = RATE_SCALE * RATE_SCALE

/** 1 BERYL = 1 000 000 uberyl; all amounts here are bigint uberyl. */
export const UBERYL_PER_BERYL = 1_000_000n

/** Crynux's 400-token node stake, carried over as the default min_stake. */
export const DEFAULT_MIN_STAKE = 400n * UBERYL_PER_BERYL

/** r_min = 1%: Crynux's current relay rate becomes our floor. */
export const DEFAULT_MIN_RATE = RATE_SCALE / 100n

/** assumed_dishonest_share = 10% of eligible nodes. */
export const DEFAULT_DISHONEST_SHARE = RATE_SCALE / 10n

/** A validation group is the original task plus two copies. */
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

/** The one error type thrown by this module, with a machine-readable code. */
export class SamplingError extends Error {
  readonly code: SamplingErrorCode
  constructor(code: SamplingErrorCode, message: string) {
    super(message)
    this.name = 'SamplingError'
    this.code = code
  }
}

function requireBigint(name: string, v: unknown, min: bigint, max?: bigint): bigint {
  if (typeof v !== 'bigint') throw new SamplingError('INVALID_ARGUMENT', `${name} must be a bigint`)
  if (v < min || (max !== undefined && v > max)) {
    throw new SamplingError(
      'INVALID_ARGUMENT',
      max === undefined ? `${name} must be >= ${min}, got ${v}` : `${name} must be in [${min}, ${max}], got ${v}`,
    )
  }
  return v
}

/** ceil(a / b) for a >= 0, b > 0 (bigint division truncates toward zero). */
function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

function choose2(n: bigint): bigint {
  return n < 2n ? 0n : (n * (n - 1n)) / 2n
}

function choose3(n: bigint): bigint {
  return n < 3n ? 0n : (n * (n - 1n) * (n - 2n)) / 6n
}

/**
 * p(h,d) as an exact fraction num/den: the probability that a uniformly drawn
 * 3-node group (without replacement) from h honest and d dishonest nodes has
 * at least 2 dishonest members, i.e. the hypergeometric tail
 * (C(d,2)·C(h,1) + C(d,3)) / C(h+d,3).
 */
export function attackerMajorityFraction(h: bigint, d: bigint): { num: bigint; den: bigint } {
  requireBigint('honest node count h', h, 0n)
  requireBigint('dishonest node count d', d, 0n)
  if (h + d < VALIDATION_GROUP_SIZE) {
    throw new SamplingError('TOO_FEW_ELIGIBLE_NODES', `p(h,d) needs h + d >= 3, got ${h + d}`)
  }
  return { num: choose2(d) * h + choose3(d), den: choose3(h + d) }
}

/**
 * p(h,d) in RATE_SCALE fixed point, rounded UP. p only enters the rate
 * through k / ((1 − p)(s + k)) and E through +r·(k + s)·p, both increasing in
 * p, so overstating p can only raise r and never hides a profitable attack.
 */
export function attackerMajorityProbability(h: bigint, d: bigint): bigint {
  const { num, den } = attackerMajorityFraction(h, d)
  return ceilDiv(num * RATE_SCALE, den)
}

/**
 * d = ceil(share · n). Rounding UP is the conservative choice: for a fixed
 * n, p(n − d, d) is non-decreasing in d (giving the attacker one more node
 * can only help it fill 2 seats of 3), so the largest d consistent with the
 * assumed share gives the largest p and hence the largest r.
 */
export function dishonestNodeCount(eligibleNodes: bigint, dishonestShare: bigint): bigint {
  requireBigint('eligibleNodes', eligibleNodes, 0n)
  requireBigint('dishonestShare', dishonestShare, 0n, RATE_SCALE)
  return ceilDiv(eligibleNodes * dishonestShare, RATE_SCALE)
}

/**
 * E = (1 − r)·k + r·(p·k − (1 − p)·s), exactly, in PROFIT_SCALE units
 * (E · 10^36 uberyl). p and r are RATE_SCALE fixed point; fee and minStake
 * are uberyl. Signed: > 0 means the Sybil attack pays.
 *
 * Multiplying the formula by RATE_SCALE² turns every term into an integer:
 *   E·S² = (S − r)·k·S + r·(p·k − (S − p)·s)
 * which also equals k·S² − r·(S − p)·(k + s); samplingRate solves the
 * latter for r.
 */
export function expectedAttackerProfit(fee: bigint, minStake: bigint, p: bigint, r: bigint): bigint {
  requireBigint('fee', fee, 0n)
  requireBigint('minStake', minStake, 0n)
  requireBigint('p', p, 0n, RATE_SCALE)
  requireBigint('r', r, 0n, RATE_SCALE)
  const S = RATE_SCALE
  return (S - r) * fee * S + r * (p * fee - (S - p) * minStake)
}

/**
 * The largest fee for which some r <= 1 gives E <= 0, i.e. the largest k with
 * p·k <= (1 − p)·s (that is E at r = 1). null when p = 0: then any fee can
 * be secured. Useful for clients to explain a FEE_NOT_SECURABLE rejection.
 */
export function maxSecurableFee(minStake: bigint, p: bigint): bigint | null {
  requireBigint('minStake', minStake, 0n)
  requireBigint('p', p, 0n, RATE_SCALE)
  if (p === 0n) return null
  return ((RATE_SCALE - p) * minStake) / p
}

export interface SamplingRateParams {
  /** Task fee k, uberyl. */
  fee: bigint
  /** Stake per node s (the chain's min_stake), uberyl. */
  minStake: bigint
  /** h + d: Available nodes eligible for this task. Must be >= 3. */
  eligibleNodes: bigint
  /** assumed_dishonest_share in RATE_SCALE fixed point; default 10%. */
  dishonestShare?: bigint
  /** r_min in RATE_SCALE fixed point; default 1%. */
  minRate?: bigint
}

export interface SamplingRateResult {
  /** r, RATE_SCALE fixed point, in [minRate, RATE_SCALE]. Store it on the task. */
  rate: bigint
  /** p(h,d), RATE_SCALE fixed point, rounded up. */
  p: bigint
  /** h and d used for p. */
  honestNodes: bigint
  dishonestNodes: bigint
  /** E for (fee, minStake, p, rate) in PROFIT_SCALE units; always <= 0. */
  expectedProfit: bigint
}

/**
 * r = min(1, max(r_min, k / ((1 − p)(s + k)))), computed in fixed point.
 *
 * - d = ceil(share · n), h = n − d (see dishonestNodeCount).
 * - p = p(h,d) rounded up (see attackerMajorityProbability).
 * - r = ceil(k·S² / ((S − p)(s + k))), i.e. the fixed-point r rounded UP.
 *   From E·S² = k·S² − r·(S − p)·(k + s), E is strictly decreasing in r
 *   (when p < 1), so rounding r up keeps E <= 0 exactly for the published
 *   (p, r); and since E is increasing in p, the true E with the unrounded p
 *   is smaller still.
 * - The unrounded r exceeds 1 exactly when p·k > (1 − p)·s, which is when E
 *   at r = 1 is positive: validating every task still pays the attacker.
 *   Capping at 1 there would accept an insecure task, so instead we throw
 *   FEE_NOT_SECURABLE; the min(1, ·) of the formula is thus never the
 *   binding term (r = 1 is returned only when the uncapped value is exactly 1).
 *   With the defaults (s = 400 BERYL, 10% share) the limit is about
 *   14 000 BERYL at 1 000 nodes and tends to about 13 890 BERYL as the
 *   network grows (p → 2.8%); small networks vary (6 933 BERYL at 11 nodes,
 *   where d = 2); networks of 3..10 nodes have d = 1, p = 0 and no limit.
 * - fee = 0 gives r = r_min (the attacker has nothing to gain).
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
    throw new SamplingError(
      'TOO_FEW_ELIGIBLE_NODES',
      `only ${n} eligible node(s) for this task; a validation group needs ${VALIDATION_GROUP_SIZE}`,
    )
  }

  const d = dishonestNodeCount(n, share)
  const h = n - d
  const p = attackerMajorityProbability(h, d)

  let raw = 0n
  if (fee > 0n) {
    const den = (S - p) * (minStake + fee)
    // den = 0 only when p = 1: the attacker always holds the majority.
    if (den === 0n) {
      throw new SamplingError(
        'FEE_NOT_SECURABLE',
        `the assumed attacker holds a validation-group majority with certainty (d=${d} of ${n} nodes)`,
      )
    }
    raw = ceilDiv(fee * S * S, den)
    if (raw > S) {
      const cap = maxSecurableFee(minStake, p)
      throw new SamplingError(
        'FEE_NOT_SECURABLE',
        `fee ${fee} uberyl cannot be secured by stake ${minStake} uberyl with ${n} eligible nodes ` +
          `(p=${p}/${S}): even validating every task leaves a Sybil attack profitable; ` +
          `the largest securable fee is ${cap} uberyl`,
      )
    }
  }
  const rate = raw > minRate ? raw : minRate
  return {
    rate,
    p,
    honestNodes: h,
    dishonestNodes: d,
    expectedProfit: expectedAttackerProfit(fee, minStake, p, rate),
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
