import { RuleError } from '../../chain/errors.ts'
import { SCALE } from '../common/amounts.ts'

// Quality of service (QoS) for compute nodes: the pure, consensus-side math.
//
// Beryl follows the Crynux relay model (the Crynux relay's QoS, as its source and docs define it):
//
//   QoS    = (Q_long / 10) · H
//   Q_long = mean of the node's last 50 validation-group task scores
//            (score by speed rank in the group: 10 / 5 / 2; a new node counts as 5.0)
//   H      = short-term health in [0, 1], default 1:
//            timeout:  H = H_eff · 0.95 if H_eff ≥ 0.99, else H_eff · 0.3
//            recovery: H_eff(t) = H_base + (1 − H_base)·(1 − exp(−(t − t_base)/τ)), τ = 30 min
//            success:  H = min(1, H_eff + 0.15)
//            excluded from dispatch once a timeout leaves H < 0.2, until H_eff ≥ 0.8
//   kick-out (stake returned, not slashed): ≥ 50 samples and Q_long < 2.0
//
// QoS feeds the dispatch weight S·Q/(S+Q) with S = sqrt(stake/max_stake)
// (Crynux's relay selection weight), and the rank scores feed the group fee split.
//
// Everything here runs inside consensus on every validator, so it uses bigint
// integers only: no floating point, no clock, no randomness. Time enters only
// as whole seconds of block time passed in by the caller. Each rounding
// direction is documented where it happens; none can differ between machines.

// ---------------------------------------------------------------------------
// Scales and parameters
// ---------------------------------------------------------------------------

/**
 * Fixed-point scale for H, QoS, the staking score S and dispatch weights: the
 * integer v stands for v / 10^18. Q_long uses the same scale per score point,
 * so Q_long = 5.0 is 5·10^18 and its range is [0, 10·10^18].
 *
 * Why 10^18: every parameter of the model (0.95, 0.99, 0.3, 0.15, 0.2, 0.8,
 * 2.0, 5.0) and every mean of up to 50 integer scores that has a finite
 * decimal expansion is exact at this scale, and one unit (10^-18) is far
 * below anything that can change a dispatch decision. It is the chain's one
 * 18-decimal scale (modules/common/amounts.ts).
 */
export const QOS_SCALE = SCALE

/** Task scores by speed rank in a validation group (fastest first), as Crynux's relay gives them. */
export const RANK_SCORES: readonly bigint[] = Object.freeze([10n, 5n, 2n])

/** The only values a task score can take: a rank score, or 0 for a timed-out member. */
export const VALID_TASK_SCORES: readonly bigint[] = Object.freeze([0n, 2n, 5n, 10n])

/** The largest task score; Q_long / 10 is the Q_long part of QoS. */
export const MAX_TASK_SCORE = 10n

/** Q_long is the mean of at most this many most recent task scores. */
export const Q_LONG_WINDOW = 50

/** Q_long of a node with no samples yet: 5.0. */
export const NEW_NODE_Q_LONG = 5n * QOS_SCALE

/** Kick-out when the window is full and Q_long is strictly below 2.0. */
export const KICKOUT_Q_LONG = 2n * QOS_SCALE

/** Recovery time constant τ: 30 minutes, in seconds of block time. */
export const TAU_SECONDS = 1800n

/** A timeout at H_eff ≥ 0.99 costs only the light first-timeout factor 0.95. */
export const FIRST_TIMEOUT_THRESHOLD = (99n * QOS_SCALE) / 100n
export const FIRST_TIMEOUT_FACTOR = (95n * QOS_SCALE) / 100n
/** Any other timeout multiplies H_eff by 0.3. */
export const TIMEOUT_FACTOR = (3n * QOS_SCALE) / 10n
/** Added to H_eff on a success, capped at 1. */
export const SUCCESS_BOOST = (15n * QOS_SCALE) / 100n
/** A node enters dispatch exclusion when H < 0.2 (strictly) ... */
export const EXCLUDE_ENTER = (2n * QOS_SCALE) / 10n
/** ... and leaves it when H_eff ≥ 0.8. */
export const EXCLUDE_EXIT = (8n * QOS_SCALE) / 10n

/**
 * The smallest Δt (seconds) with expNegTau(Δt) = 0, so that H_eff is exactly
 * 1 from this point on whatever H_base was: floor(10^18 · e^(−Δt/1800)) first
 * reaches 0 at Δt = 74 604 s (≈ 20 h 43 min; 1800 · 18 · ln 10 ≈ 74 603.76).
 * The tests check this against the implementation.
 */
export const HEALTH_FULL_RECOVERY_SECONDS = 74_604n

// ---------------------------------------------------------------------------
// Errors and validation
// ---------------------------------------------------------------------------

/** What the QoS rules throw on a bad argument (the keeper never passes one). */
export type QosErrorCode = 'INVALID_ARGUMENT'

function invalid(message: string): RuleError<QosErrorCode> {
  return new RuleError('INVALID_ARGUMENT', message)
}

function requireBigint(name: string, v: unknown, min: bigint, max?: bigint): bigint {
  if (typeof v !== 'bigint') throw invalid(`${name} must be a bigint, got ${typeof v}`)
  if (v < min || (max !== undefined && v > max)) {
    throw invalid(max === undefined ? `${name} must be >= ${min}, got ${v}` : `${name} must be in [${min}, ${max}], got ${v}`)
  }
  return v
}

/** H, QoS values and thresholds: fixed point in [0, 1]. */
function requireUnit(name: string, v: unknown): bigint {
  return requireBigint(name, v, 0n, QOS_SCALE)
}

function requireTaskScore(name: string, v: unknown): bigint {
  if (typeof v !== 'bigint') throw invalid(`${name} must be a bigint, got ${typeof v}`)
  if (!VALID_TASK_SCORES.includes(v)) {
    throw invalid(`${name} must be one of ${VALID_TASK_SCORES.join(', ')} (a rank score or 0), got ${v}`)
  }
  return v
}

function requireScoreList(name: string, v: unknown): readonly bigint[] {
  if (!Array.isArray(v)) throw invalid(`${name} must be an array of task scores`)
  for (let i = 0; i < v.length; i++) requireTaskScore(`${name}[${i}]`, v[i])
  return v
}

// ---------------------------------------------------------------------------
// Q_long and its window
// ---------------------------------------------------------------------------

/**
 * The last (up to) 50 task scores of a node, OLDEST FIRST. This plain list
 * (rather than a ring buffer with a head index) is the canonical form: one
 * logical history has exactly one representation and one byte encoding, which
 * matters because the keeper stores it and the bytes enter the app hash.
 * Shifting 50 small entries on a push costs nothing next to a store write.
 */
export interface ScoreWindow {
  readonly scores: readonly bigint[]
}

/** The window of a node that has no samples yet (Q_long = NEW_NODE_Q_LONG). */
export const EMPTY_WINDOW: ScoreWindow = Object.freeze({ scores: Object.freeze([]) as readonly bigint[] })

function requireWindow(name: string, w: unknown): ScoreWindow {
  if (w === null || typeof w !== 'object') throw invalid(`${name} must be a ScoreWindow object`)
  const scores = (w as { scores?: unknown }).scores
  requireScoreList(`${name}.scores`, scores)
  if ((scores as readonly bigint[]).length > Q_LONG_WINDOW) {
    throw invalid(`${name}.scores must hold at most ${Q_LONG_WINDOW} scores, got ${(scores as readonly bigint[]).length}`)
  }
  return w as ScoreWindow
}

/**
 * The window after one more sample: the score is appended and, once there
 * are 50, the oldest is dropped. Returns a new frozen window; the input is not
 * modified.
 */
export function pushScore(window: ScoreWindow, score: bigint): ScoreWindow {
  requireWindow('window', window)
  requireTaskScore('score', score)
  const scores = [...window.scores, score]
  if (scores.length > Q_LONG_WINDOW) scores.shift()
  return Object.freeze({ scores: Object.freeze(scores) })
}

/**
 * Q_long = mean of the last 50 scores (earlier entries of a longer list are
 * ignored), in QOS_SCALE units per score point. No samples → 5.0.
 *
 * Rounded down (floor). With 50 samples (the only count at which kick-out is
 * decided) the mean sum/50 is exact at this scale; shouldKickOut does not
 * depend on this rounding anyway.
 *
 * Unlike the relay, a node whose samples are all 0 has Q_long = 0, not 5.0:
 * the relay maps a stored 0 to the new-node value (a known weakness of its QoS),
 * which lets a node that always times out in groups pass as new. Here only
 * "no samples" means new.
 */
export function qLong(scores: readonly bigint[]): bigint {
  requireScoreList('scores', scores)
  const start = Math.max(0, scores.length - Q_LONG_WINDOW)
  const n = BigInt(scores.length - start)
  if (n === 0n) return NEW_NODE_Q_LONG
  let sum = 0n
  for (let i = start; i < scores.length; i++) sum += scores[i]!
  return (sum * QOS_SCALE) / n
}

/**
 * Permanent kick-out: the window holds 50 samples and Q_long < 2.0. Decided
 * exactly on integers (sum < 2·50), not on a rounded mean.
 */
export function shouldKickOut(window: ScoreWindow): boolean {
  requireWindow('window', window)
  const n = window.scores.length
  if (n < Q_LONG_WINDOW) return false
  let sum = 0n
  for (const s of window.scores) sum += s
  return sum * QOS_SCALE < KICKOUT_Q_LONG * BigInt(n)
}

// ---------------------------------------------------------------------------
// exp(−Δt/τ) in integers
// ---------------------------------------------------------------------------
//
// Method: binary decomposition of Δt with a table of e^(−2^i/τ).
//
//   e^(−Δt/τ) = Π_{bit i of Δt set} e^(−2^i/τ)
//
// HEALTH_FULL_RECOVERY_SECONDS < 2^17, so bits 0..16 suffice; beyond that the
// result is 0 at QOS_SCALE. The 17 table entries are computed once, at module
// load, in EXP_BITS = 128 fractional bits with 64 guard bits: e^(+x) by its
// Taylor series (all terms positive, so no cancellation; each term floored),
// then the reciprocal. Computing them in code (rather than pasting constants)
// keeps the derivation reviewable; it is pure bigint work, identical on every
// validator.
//
// Error bound. Each table entry is within 1 unit of 2^-128 of the true value
// (the guard bits absorb the series' rounding). A product of k ≤ 17 entries,
// floored after each multiplication, is within 2k ≤ 34 units of 2^-128 of
// the true product (each factor is ≤ 1, so errors do not grow), i.e. within
// 1.0·10^-37. The final conversion to QOS_SCALE floors once more. So
//
//   expNegTau(Δt)/10^18 ∈ (e^(−Δt/τ) − 10^-18 − 10^-37, e^(−Δt/τ) + 10^-37]
//
// i.e. the absolute error is below 1.000001·10^-18: the result is
// floor(10^18·e^(−Δt/τ)) except when that real number lies within 10^-19 of
// an integer. The tests check both bounds against an independent
// 10^-60-precision evaluation on a grid (measured: the 2^-128 value is off by
// −5.4 to 0 units, the QOS_SCALE value by −1.0·10^-18 to 0), and against
// Math.exp as a loose cross-check. Without the guard bits the table entries
// drift by more than the 34-unit bound, which the tests detect.
//
// Monotonicity: consecutive true values differ by e^(−Δt/τ)·(1 − e^(−1/τ)) ≈
// 5.6·10^-4·e^(−Δt/τ), which exceeds twice the 2^-128-scale error whenever
// e^(−Δt/τ) > 10^-33; all smaller values floor to 0 at QOS_SCALE anyway. Hence
// expNegTau is non-increasing in Δt (the tests check every second up to full
// recovery).

const EXP_BITS = 128n
const EXP_ONE = 1n << EXP_BITS
const EXP_GUARD_BITS = 64n
const EXP_TABLE_SIZE = 17

/** floor(2^(EXP_BITS) · e^(−num/den)) up to ±1, for 0 ≤ num/den ≤ ~40. Load time only. */
function expNegRationalFixed(num: bigint, den: bigint): bigint {
  const wide = EXP_BITS + EXP_GUARD_BITS
  const one = 1n << wide
  // e^x = Σ x^n / n!, x = num/den, each term floored at 2^-(wide).
  let term = one
  let sum = one
  for (let n = 1n; term > 0n; n++) {
    term = (term * num) / (den * n)
    sum += term
  }
  // e^(−x) = 1 / e^x; shifting to EXP_BITS drops the guard bits (floor).
  return ((one * one) / sum) >> EXP_GUARD_BITS
}

/** EXP_TABLE[i] ≈ 2^128 · e^(−2^i/τ). */
const EXP_TABLE: readonly bigint[] = Object.freeze(Array.from({ length: EXP_TABLE_SIZE }, (_, i) => expNegRationalFixed(1n << BigInt(i), TAU_SECONDS)))

/**
 * e^(−Δt/τ) in QOS_SCALE fixed point, for Δt whole seconds of block time,
 * τ = 1800 s. Δt ≤ 0 gives exactly 1 (no time has passed); Δt ≥
 * HEALTH_FULL_RECOVERY_SECONDS gives exactly 0. Non-increasing in Δt. Error
 * bound: see the comment above (below 1.000001·10^-18 absolute).
 */
export function expNegTau(dt: bigint): bigint {
  if (typeof dt !== 'bigint') throw invalid(`dt must be a bigint, got ${typeof dt}`)
  if (dt <= 0n) return QOS_SCALE
  if (dt >= HEALTH_FULL_RECOVERY_SECONDS) return 0n
  return (expNegTauX128(dt) * QOS_SCALE) >> EXP_BITS
}

/**
 * The working-precision value behind expNegTau: e^(−Δt/τ) · 2^128, within 34
 * units of 2^-128 of the true value (see the error bound above), for
 * 0 ≤ Δt < 2^17. Exported so that the tests can check the internal bound
 * directly; consensus code should use expNegTau.
 */
export function expNegTauX128(dt: bigint): bigint {
  requireBigint('dt', dt, 0n, (1n << BigInt(EXP_TABLE_SIZE)) - 1n)
  let acc = EXP_ONE
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    if ((dt >> BigInt(i)) & 1n) acc = (acc * EXP_TABLE[i]!) >> EXP_BITS
  }
  return acc
}

// ---------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------

/**
 * H_eff = H_base + (1 − H_base)·(1 − e^(−Δt/τ)), Δt = now − baseTime in whole
 * seconds of block time (both unix seconds, ≥ 0).
 *
 * Computed as 1 − ceil((1 − H_base)·e), with e = expNegTau(Δt): algebraically
 * the formula above with the recovered amount rounded DOWN, so a node never
 * looks healthier than it is. In this form it is plainly non-decreasing in Δt
 * (e is non-increasing) and in H_base, returns H_base exactly when Δt ≤ 0,
 * and returns exactly 1 once Δt ≥ HEALTH_FULL_RECOVERY_SECONDS (e = 0); before
 * that it stays below 1 unless H_base = 1.
 */
export function effectiveHealth(base: bigint, baseTime: bigint, now: bigint): bigint {
  requireUnit('base', base)
  requireBigint('baseTime', baseTime, 0n)
  requireBigint('now', now, 0n)
  const dt = now - baseTime
  if (dt <= 0n) return base
  const e = expNegTau(dt)
  const deficit = (QOS_SCALE - base) * e
  return QOS_SCALE - (deficit + QOS_SCALE - 1n) / QOS_SCALE
}

/**
 * H after a node-attributed timeout (execution Timeout or ResultUploadTimeout),
 * given H_eff at the time of the timeout: ×0.95 if H_eff ≥ 0.99, else ×0.3.
 * Rounded down (the exact products of the test sequences need no rounding).
 * The caller stores the result as the new H_base with the current block time.
 */
export function onTimeout(hEff: bigint): bigint {
  requireUnit('hEff', hEff)
  const factor = hEff >= FIRST_TIMEOUT_THRESHOLD ? FIRST_TIMEOUT_FACTOR : TIMEOUT_FACTOR
  return (hEff * factor) / QOS_SCALE
}

/** H after a success (EndSuccess/EndGroupSuccess upload, or GroupRefund match): min(1, H_eff + 0.15). Exact. */
export function onSuccess(hEff: bigint): bigint {
  requireUnit('hEff', hEff)
  const h = hEff + SUCCESS_BOOST
  return h > QOS_SCALE ? QOS_SCALE : h
}

/**
 * The exclusion flag after H changed or is re-checked, with hysteresis:
 * - not excluded → excluded iff h < 0.2;
 * - excluded → stays excluded iff h < 0.8.
 *
 * Entering can only follow a timeout: success and recovery only raise H, and
 * H starts at 1, so a non-excluded node can only be below 0.2 right after the
 * timeout that put it there (the caller passes the new H). Leaving is checked
 * with H_eff (at dispatch, or scheduled with secondsUntilHealth) or with H
 * after a success boost.
 */
export function exclusionAfter(excluded: boolean, h: bigint): boolean {
  if (typeof excluded !== 'boolean') throw invalid(`excluded must be a boolean, got ${typeof excluded}`)
  requireUnit('h', h)
  return excluded ? h < EXCLUDE_EXIT : h < EXCLUDE_ENTER
}

/**
 * The least Δt ≥ 0 (whole seconds) with effectiveHealth(hBase, t, t + Δt) ≥
 * target: exact with respect to effectiveHealth, found by binary search over
 * [0, HEALTH_FULL_RECOVERY_SECONDS] (valid because H_eff is non-decreasing
 * in Δt and is 1 at the upper end). Use it to schedule re-inclusion at
 * baseTime + secondsUntilHealth(hBase, EXCLUDE_EXIT).
 *
 * For reference, the real-valued answer is τ·ln((1 − H_base)/(1 − target)),
 * e.g. 0.0855 → 0.8 takes 2737 s (45.6 min).
 */
export function secondsUntilHealth(hBase: bigint, target: bigint): bigint {
  requireUnit('hBase', hBase)
  requireUnit('target', target)
  if (hBase >= target) return 0n
  // Invariant: H_eff(lo) < target ≤ H_eff(hi).
  let lo = 0n
  let hi = HEALTH_FULL_RECOVERY_SECONDS
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n
    if (effectiveHealth(hBase, 0n, mid) >= target) hi = mid
    else lo = mid
  }
  return hi
}

// ---------------------------------------------------------------------------
// QoS value and dispatch weight
// ---------------------------------------------------------------------------

/** QoS = (Q_long / 10) · H, in QOS_SCALE units (so in [0, 1]). Rounded down. */
export function qosValue(qLongValue: bigint, h: bigint): bigint {
  requireBigint('qLong', qLongValue, 0n, MAX_TASK_SCORE * QOS_SCALE)
  requireUnit('h', h)
  return (qLongValue * h) / (MAX_TASK_SCORE * QOS_SCALE)
}

/** floor(sqrt(n)) for a bigint n ≥ 0, exactly (Newton's method on integers). */
export function isqrt(n: bigint): bigint {
  requireBigint('n', n, 0n)
  if (n < 2n) return n
  // Start at a power of two ≥ sqrt(n); from any start ≥ floor(sqrt(n)),
  // x ← floor((x + floor(n/x)) / 2) decreases strictly until it reaches
  // floor(sqrt(n)), where the next step would not decrease.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2))
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x) return x
    x = y
  }
}

/**
 * S = sqrt(stake / maxStake) in QOS_SCALE units: floor(10^18 · sqrt(stake /
 * maxStake)) exactly, computed as isqrt(floor(stake·10^36 / maxStake)) (the
 * inner floor cannot change the outer one). stake is clamped to maxStake, so
 * S ∈ [0, 1] and stake = maxStake gives exactly 1. maxStake = 0 (no stake
 * anywhere) gives 0. Amounts are uberyl.
 */
export function stakingScore(stake: bigint, maxStake: bigint): bigint {
  requireBigint('stake', stake, 0n)
  requireBigint('maxStake', maxStake, 0n)
  if (maxStake === 0n) return 0n
  const s = stake > maxStake ? maxStake : stake
  return isqrt((s * QOS_SCALE * QOS_SCALE) / maxStake)
}

/**
 * The base weight S·Q/(S+Q) of two QOS_SCALE values, rounded down; 0 when
 * either is 0 (Crynux's selection weight; half their harmonic mean, so at most 0.5).
 * Symmetric in its arguments and non-decreasing in each.
 */
export function baseWeight(s: bigint, q: bigint): bigint {
  requireUnit('s', s)
  requireUnit('q', q)
  if (s === 0n || q === 0n) return 0n
  return (s * q) / (s + q)
}

/**
 * Dispatch weight S·Q/(S+Q) with S = stakingScore(stake, maxStake) and q the
 * node's QoS value (qosValue), in QOS_SCALE units. maxStake is the largest
 * score stake among the candidate nodes. A node with zero stake or zero QoS
 * has weight 0. (Crynux also boosts nodes that already hold the model in VRAM
 * by 1.3; Beryl's dispatcher does not.)
 */
export function dispatchWeight(stake: bigint, maxStake: bigint, q: bigint): bigint {
  requireUnit('q', q)
  return baseWeight(stakingScore(stake, maxStake), q)
}
