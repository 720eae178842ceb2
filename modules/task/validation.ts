// Score checks and validation outcomes (Crynux's task states, its group-validation
// table and its score comparison: pHash Hamming distance for images, equality for text).
//
// A selected node submits a score, which is a fingerprint of its output. When the
// creator validates, a task that was not sampled is accepted as it stands
// (singleOutcome). A sampled task was run three times, and groupOutcome decides
// what happens to each of the three members by comparing their scores.
//
// Everything here runs in consensus, so it is integer-only and total: the same
// input gives the same answer on every validator, and a bad input gives a
// TaskRuleError, never a crash.
//
// The Hamming comparison is written here rather than imported from the
// worker's pHash code: a module may import only chain/, other modules'
// index.ts and npm packages (modules/README.md), and the pHash code also brings
// in the PNG decoder and the floating-point DCT. The unit tests check on a grid
// of inputs that both implementations agree.

import { RuleError } from '../../chain/errors.ts'
import { AbortReason, TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { VALIDATION_GROUP_SIZE } from '../vss/index.ts'

// ---- the vocabulary: the proto enums, with short names for messages ------------------------

const pascal = (s: string) => s.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())

/** "EndAborted" for TASK_STATUS_END_ABORTED: the protocol's name of a status, for messages. */
export function statusName(s: TaskStatus): string {
  const n = TaskStatus[s]
  return n && s !== TaskStatus.UNRECOGNIZED ? pascal(n.slice('TASK_STATUS_'.length)) : `status ${String(s)}`
}

/** "CreatorValidationTimeout" for ABORT_REASON_CREATOR_VALIDATION_TIMEOUT. */
export function reasonName(r: AbortReason): string {
  const n = AbortReason[r]
  return n && r !== AbortReason.UNRECOGNIZED ? pascal(n.slice('ABORT_REASON_'.length)) : `reason ${String(r)}`
}

/** "IMAGE" / "TEXT". */
export function typeName(t: TaskType): string {
  const n = TaskType[t]
  return n && t !== TaskType.UNRECOGNIZED ? n.slice('TASK_TYPE_'.length) : `type ${String(t)}`
}

const TERMINAL: ReadonlySet<TaskStatus> = new Set([
  TaskStatus.TASK_STATUS_END_INVALIDATED,
  TaskStatus.TASK_STATUS_END_SUCCESS,
  TaskStatus.TASK_STATUS_END_ABORTED,
  TaskStatus.TASK_STATUS_END_GROUP_REFUND,
  TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
])

/** A terminal task never changes again and has had its escrow settled. */
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status)
}

/** "EndAborted(GroupTimeout)"-style text for error messages. */
export function describeStatus(status: TaskStatus, reason: AbortReason = AbortReason.ABORT_REASON_NONE): string {
  const name = statusName(status)
  if (status !== TaskStatus.TASK_STATUS_END_ABORTED) return name
  return `${name}(${reasonName(reason)})`
}

export type TaskRuleErrorCode =
  /** A score is empty, the wrong length, or all zero. */
  | 'INVALID_SCORE'
  /** A validation group is malformed: wrong size, duplicate ids or sequences, mixed types, missing times or scores. */
  | 'INVALID_GROUP'
  /** A task is not in a state the requested validation accepts. */
  | 'INVALID_STATE'
  /** A group member already ended in EndAborted(CreatorValidationTimeout); the group can never be validated. */
  | 'GROUP_VALIDATION_EXPIRED'
  /** The settlement input is inconsistent (non-terminal status, missing fee, bad split). */
  | 'INVALID_SETTLEMENT'
  /** A parameter is of the wrong type or out of range. */
  | 'INVALID_ARGUMENT'

/** The error of the task module's pure rules (validation, settlement); the keeper maps codes to chain errors. */
export class TaskRuleError extends RuleError<TaskRuleErrorCode> {}

/** Bytes per output in a score: an 8-byte pHash per image, a 32-byte SHA-256 per text output. */
export const SCORE_BYTES_PER_OUTPUT: Readonly<Partial<Record<TaskType, number>>> = {
  [TaskType.TASK_TYPE_IMAGE]: 8,
  [TaskType.TASK_TYPE_TEXT]: 32,
}

/** VSSTask.sol's distanceThreshold. Two pHashes match when their distance is strictly below it. */
export const DEFAULT_HAMMING_THRESHOLD = 24

/** A validation group is the original task plus two copies (the number is vss's). */
const GROUP_SIZE = Number(VALIDATION_GROUP_SIZE)

/** QoS task score by speed rank in a validation group: fastest, second, third. */
export const GROUP_QOS_SCORES: readonly number[] = [10, 5, 2]

export interface ValidationParams {
  /** Per-image Hamming distance limit (exclusive) for IMAGE scores. */
  hammingThreshold: number
}

export const DEFAULT_VALIDATION_PARAMS: Readonly<ValidationParams> = { hammingThreshold: DEFAULT_HAMMING_THRESHOLD }

// ---- scores ---------------------------------------------------------------------------------

function outputBytes(type: TaskType): number {
  const n = SCORE_BYTES_PER_OUTPUT[type]
  if (n === undefined) throw new TaskRuleError('INVALID_ARGUMENT', `unknown task type ${String(type)}`)
  return n
}

/**
 * Checks a score submitted with MsgSubmitScore and returns how many outputs it
 * covers. IMAGE: a non-empty concatenation of 8-byte pHashes. TEXT: a non-empty
 * concatenation of 32-byte SHA-256 digests. A score of only zero bytes is
 * refused (the node's own `validate_score`), because it is what an
 * unset field decodes to. When `numOutputs` is given (the image count or
 * output count the task asks for), the score must cover exactly that many.
 */
export function validateScore(type: TaskType, score: Uint8Array, numOutputs?: number): number {
  const unit = outputBytes(type)
  const what = `${typeName(type)} score`
  if (!(score instanceof Uint8Array)) throw new TaskRuleError('INVALID_SCORE', `${what} must be bytes`)
  if (score.length === 0) throw new TaskRuleError('INVALID_SCORE', `${what} is empty`)
  if (score.length % unit !== 0) {
    const per = type === TaskType.TASK_TYPE_IMAGE ? `${unit}-byte pHash per image` : `${unit}-byte SHA-256 per output`
    throw new TaskRuleError('INVALID_SCORE', `${what} is ${score.length} bytes; it must be one ${per}, concatenated`)
  }
  const outputs = score.length / unit
  if (numOutputs !== undefined) {
    if (!Number.isSafeInteger(numOutputs) || numOutputs < 1) {
      throw new TaskRuleError('INVALID_ARGUMENT', `numOutputs must be a positive integer, got ${String(numOutputs)}`)
    }
    if (outputs !== numOutputs) {
      throw new TaskRuleError('INVALID_SCORE', `${what} covers ${outputs} outputs (${score.length} bytes); the task produces ${numOutputs}`)
    }
  }
  if (score.every((b) => b === 0)) throw new TaskRuleError('INVALID_SCORE', `${what} is all zero bytes`)
  return outputs
}

/** popcount of one byte (SWAR; no table, so nothing to initialise). */
function popcount8(x: number): number {
  x = x - ((x >> 1) & 0x55)
  x = (x & 0x33) + ((x >> 2) & 0x33)
  return (x + (x >> 4)) & 0x0f
}

/** Differing bits between two 8-byte pHashes. */
export function pHashDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== 8 || b.length !== 8) {
    throw new TaskRuleError('INVALID_ARGUMENT', `a pHash is 8 bytes (got ${a.length} and ${b.length})`)
  }
  let d = 0
  for (let i = 0; i < 8; i++) d += popcount8(a[i]! ^ b[i]!)
  return d
}

function checkThreshold(t: number): number {
  if (!Number.isSafeInteger(t) || t < 0) {
    throw new TaskRuleError('INVALID_ARGUMENT', `hammingThreshold must be a non-negative integer, got ${String(t)}`)
  }
  return t
}

/**
 * Whether two scores of the same task agree. IMAGE: same length, a whole
 * number of 8-byte pHashes, and every image's distance strictly below the
 * threshold; one image out of range fails the whole score, as in Hamming.sol
 * and the relay (no averaging). TEXT: byte-for-byte equal. Empty scores never
 * match, so a missing score cannot agree with another missing score.
 */
export function scoresMatch(type: TaskType, a: Uint8Array, b: Uint8Array, hammingThreshold: number): boolean {
  const unit = outputBytes(type)
  checkThreshold(hammingThreshold)
  if (a.length !== b.length || a.length === 0 || a.length % unit !== 0) return false
  if (type === TaskType.TASK_TYPE_TEXT) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  for (let o = 0; o < a.length; o += 8) {
    if (pHashDistance(a.subarray(o, o + 8), b.subarray(o, o + 8)) >= hammingThreshold) return false
  }
  return true
}

/** What "~" looks at. */
export interface ComparableTask {
  type: TaskType
  status: TaskStatus
  score?: Uint8Array
}

/**
 * The "~" of the group table (relay `compareTaskScore`): same task type and same status;
 * two ErrorReported members are equal; two ScoreReady members compare scores;
 * anything else is not equal. So an error report never agrees with a score.
 */
export function membersMatch(a: ComparableTask, b: ComparableTask, hammingThreshold: number): boolean {
  if (a.type !== b.type || a.status !== b.status) return false
  if (a.status === TaskStatus.TASK_STATUS_ERROR_REPORTED) return true
  if (a.status !== TaskStatus.TASK_STATUS_SCORE_READY) return false
  if (!a.score || !b.score) throw new TaskRuleError('INVALID_GROUP', 'a ScoreReady task has no score')
  return scoresMatch(a.type, a.score, b.score, hammingThreshold)
}

// ---- one task, not sampled ------------------------------------------------------------------

export interface Transition {
  status: TaskStatus
  abortReason: AbortReason
}

/**
 * MsgValidateTask with one task whose VRF says "not sampled":
 * a score is accepted as it stands (Validated; the node then uploads the
 * result), and an error report ends the task with a refund
 * (EndAborted(ErrorReported)).
 */
export function singleOutcome(task: { status: TaskStatus; abortReason?: AbortReason }): Transition {
  if (task.status === TaskStatus.TASK_STATUS_SCORE_READY) return { status: TaskStatus.TASK_STATUS_VALIDATED, abortReason: AbortReason.ABORT_REASON_NONE }
  if (task.status === TaskStatus.TASK_STATUS_ERROR_REPORTED)
    return { status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: AbortReason.ABORT_REASON_ERROR_REPORTED }
  throw new TaskRuleError(
    'INVALID_STATE',
    `a task is validated alone only from ScoreReady or ErrorReported; it is ${describeStatus(task.status, task.abortReason)}`,
  )
}

// ---- validation group -----------------------------------------------------------------------

export interface GroupMember extends ComparableTask {
  /** Task id (the task-ID commitment). */
  id: string
  /** The selected node; absent only for a task aborted before it started. */
  node?: string
  /** Required when status is EndAborted. */
  abortReason?: AbortReason
  /** Block time the node was assigned; required for ScoreReady and ErrorReported members. */
  startTime?: bigint
  /** Block time of the score or error report; required for ScoreReady and ErrorReported members. */
  scoreReadyTime?: bigint
  /** Chain-wide creation order of the task; unique. Breaks execution-time ties. */
  sequence: bigint
  /**
   * The member committed a score but did not open it within the reveal window. It is
   * EndInvalidated (slashed) whatever the others revealed, and the table is read among the
   * members that did reveal: withholding a reveal can never be cheaper than a wrong answer
   * (docs/decisions/0020).
   */
  unrevealed?: boolean
}

export interface MemberOutcome extends Transition {
  id: string
  node?: string
  /**
   * The task score this member contributes to its node's QoS: 10/5/2 by
   * speed rank among the finished members; 0 for an invalidated member (the
   * relay overwrites its rank with 0) and for a member that was already aborted
   * by Timeout when at least one member finished; null when the QoS history
   * should not change (members aborted for any other reason, and everyone when
   * no member finished).
   */
  qosScore: number | null
  /**
   * False for a member that was already EndAborted: its status and reason stay
   * as they were, and its escrow was settled when it aborted.
   */
  changed: boolean
}

/** A member whose node shares the representative's fee at EndGroupSuccess. */
export interface MatchingMember {
  id: string
  node: string
  qosScore: number
}

export interface GroupOutcome {
  /** One entry per member, in the order given. */
  members: MemberOutcome[]
  /** Ids of the finished members, fastest first (the order the table reads F0, F1, F2 in). */
  ranked: string[]
  /** The GroupValidated member, whose upload ends the group in EndGroupSuccess; null if none. */
  representative: string | null
  /**
   * The GroupValidated and EndGroupRefund members, fastest first (so the
   * representative comes first). The keeper keeps this list for settling the
   * representative at EndGroupSuccess.
   */
  matching: MatchingMember[]
}

const GROUP_STATUSES: ReadonlySet<TaskStatus> = new Set([
  TaskStatus.TASK_STATUS_SCORE_READY,
  TaskStatus.TASK_STATUS_ERROR_REPORTED,
  TaskStatus.TASK_STATUS_END_ABORTED,
])

function isFinished(m: GroupMember): boolean {
  return m.status === TaskStatus.TASK_STATUS_SCORE_READY || m.status === TaskStatus.TASK_STATUS_ERROR_REPORTED
}

function checkGroup(members: readonly GroupMember[]): void {
  if (members.length !== GROUP_SIZE) {
    throw new TaskRuleError('INVALID_GROUP', `a validation group has ${GROUP_SIZE} tasks, got ${members.length}`)
  }
  const ids = new Set<string>()
  const sequences = new Set<bigint>()
  for (const m of members) {
    if (typeof m.id !== 'string' || m.id.length === 0) throw new TaskRuleError('INVALID_GROUP', 'a group member has no id')
    if (ids.has(m.id)) throw new TaskRuleError('INVALID_GROUP', `task ${m.id} appears twice in the group`)
    ids.add(m.id)
    if (typeof m.sequence !== 'bigint') throw new TaskRuleError('INVALID_GROUP', `task ${m.id}: sequence must be a bigint`)
    if (sequences.has(m.sequence)) {
      throw new TaskRuleError('INVALID_GROUP', `two group members have sequence ${m.sequence}; the tie-break needs distinct sequences`)
    }
    sequences.add(m.sequence)
  }
  // Checked before any other state rule, so the creator always hears the
  // permanent reason rather than a temporary one (the table's last rule: the
  // member's node was already paid, so the group can never be settled).
  for (const m of members) {
    if (m.status === TaskStatus.TASK_STATUS_END_ABORTED && m.abortReason === AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT) {
      throw new TaskRuleError(
        'GROUP_VALIDATION_EXPIRED',
        `task ${m.id} already ended in EndAborted(CreatorValidationTimeout); this validation group can no longer be validated`,
      )
    }
  }
  for (const m of members) {
    if (!GROUP_STATUSES.has(m.status)) {
      throw new TaskRuleError(
        'INVALID_STATE',
        `task ${m.id} is ${describeStatus(m.status, m.abortReason)}; a group is validated only when every task is ScoreReady, ErrorReported or EndAborted`,
      )
    }
    if (m.status === TaskStatus.TASK_STATUS_END_ABORTED && (m.abortReason === undefined || m.abortReason === AbortReason.ABORT_REASON_NONE)) {
      throw new TaskRuleError('INVALID_GROUP', `task ${m.id} is EndAborted without an abort reason`)
    }
    if (isFinished(m)) {
      if (typeof m.startTime !== 'bigint' || typeof m.scoreReadyTime !== 'bigint') {
        throw new TaskRuleError('INVALID_GROUP', `task ${m.id} is ${statusName(m.status)} but lacks startTime or scoreReadyTime`)
      }
      if (m.scoreReadyTime < m.startTime) throw new TaskRuleError('INVALID_GROUP', `task ${m.id} has scoreReadyTime before startTime`)
      if (m.status === TaskStatus.TASK_STATUS_SCORE_READY && !m.unrevealed && !(m.score instanceof Uint8Array)) {
        throw new TaskRuleError('INVALID_GROUP', `task ${m.id} is ScoreReady without a score`)
      }
    }
  }
  // The three tasks are copies of one task, so their types agree. A creator who
  // mixed types could make honest nodes look wrong under "~" (which fails on
  // type) and get them slashed; such a group is refused instead.
  const type = members[0]!.type
  if (members.some((m) => m.type !== type)) throw new TaskRuleError('INVALID_GROUP', 'the tasks of a validation group must have one task type')
}

/** Execution time, then sequence (relay ValidateTaskGroup: `ExecutionTime()`, ties by ID). */
function fasterFirst(a: GroupMember, b: GroupMember): number {
  const ta = a.scoreReadyTime! - a.startTime!
  const tb = b.scoreReadyTime! - b.startTime!
  if (ta !== tb) return ta < tb ? -1 : 1
  return a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0
}

/**
 * The majority and the outliers among the finished members F (fastest first),
 * as positions in F; the representative is the majority's first. "~" is not
 * transitive for images (Hamming distance), so Crynux's table, read in its
 * order, can convict a member that matches another member: with F0~F1, F1~F2
 * and not F0~F2 it invalidates F2 (and with F0~F2, F1~F2 and not F0~F1 it
 * invalidates F1). The digital twin showed what that costs: a faker's random
 * pHash falls within the threshold of one honest score about 1.7% of the time,
 * and when the faker was fastest the second honest node was slashed for
 * matching the first. Beryl convicts only a member that matches nobody: when
 * exactly two pairs match, the member in both pairs (the centre) is the
 * representative, the other two matched it, and nobody is slashed.
 */
function tableRow(f: readonly GroupMember[], threshold: number): { majority: number[]; outliers: number[] } {
  if (f.length === 2) {
    return membersMatch(f[0]!, f[1]!, threshold) ? { majority: [0, 1], outliers: [] } : { majority: [], outliers: [] }
  }
  if (f.length !== 3) return { majority: [], outliers: [] }
  const same1 = membersMatch(f[0]!, f[1]!, threshold)
  const same2 = membersMatch(f[0]!, f[2]!, threshold)
  const same3 = membersMatch(f[1]!, f[2]!, threshold)
  if (same1 && same2) return { majority: [0, 1, 2], outliers: [] }
  // Two pairs match, the third does not: the centre matched both others.
  if (same1 && same3) return { majority: [1, 0, 2], outliers: [] }
  if (same2 && same3) return { majority: [2, 0, 1], outliers: [] }
  if (same1) return { majority: [0, 1], outliers: [2] }
  if (same2) return { majority: [0, 2], outliers: [1] }
  if (same3) return { majority: [1, 2], outliers: [0] }
  return { majority: [], outliers: [] }
}

/**
 * MsgValidateTask with three tasks whose VRF says "sampled": the outcome of
 * each member under the group-validation table of Crynux's relay.
 *
 * F is the list of finished (ScoreReady or ErrorReported) members, fastest
 * first. Members that were already EndAborted keep their state.
 *
 * - |F| = 3: same1 = F0~F1, same2 = F0~F2, same3 = F1~F2.
 *   - same1 ∧ same2: F0 → GroupValidated, F1 and F2 → EndGroupRefund.
 *   - exactly two of the three pairs match (Beryl's row, see tableRow): the member in both
 *     pairs → GroupValidated, the other two → EndGroupRefund; nobody is invalidated.
 *   - only same1: F0 → GroupValidated, F1 → EndGroupRefund, F2 → EndInvalidated.
 *   - only same2: F0 → GroupValidated, F2 → EndGroupRefund, F1 → EndInvalidated.
 *   - only same3: F1 → GroupValidated, F2 → EndGroupRefund, F0 → EndInvalidated.
 *   - else: all → EndAborted(IncorrectResult).
 * - |F| = 2: F0~F1 → GroupValidated / EndGroupRefund; else both → EndAborted(IncorrectResult).
 * - |F| ≤ 1: the finished member, if any → EndAborted(GroupTimeout).
 *
 * When the majority agreed on an **error report** rather than a score,
 * "GroupValidated only if F0 is ScoreReady" applies. The table says
 * nothing more. We follow the relay (`ValidateTaskGroup`), where every member
 * not given a status ends EndAborted(IncorrectResult): the agreeing members
 * are aborted and the creator is refunded. Unlike the relay, the outlier whose
 * score disagreed with the agreed error is aborted too, not EndInvalidated: an
 * error report is never evidence against a score in Beryl. This also matches
 * the |F| = 2 row, which aborts two matching error reports with
 * IncorrectResult. One deliberate difference from the relay: when all three
 * members reported an error, the relay would send F2 to EndGroupRefund (same1
 * and same2). Its own SetTaskStatusEndGroupRefund accepts only ScoreReady
 * tasks, so the relay fails the whole validation and the group later times
 * out into CreatorValidationTimeout, which pays three nodes for a task that
 * cannot run. Here all three end EndAborted(IncorrectResult) and the creator
 * is refunded. EndGroupRefund always means "matched a GroupValidated
 * representative".
 *
 * If any member already ended in EndAborted(CreatorValidationTimeout), the
 * group is refused for good (GROUP_VALIDATION_EXPIRED). Its node has been
 * paid, so no outcome could settle it again.
 */
export function groupOutcome(members: readonly GroupMember[], params: ValidationParams = DEFAULT_VALIDATION_PARAMS): GroupOutcome {
  const threshold = checkThreshold(params.hammingThreshold)
  checkGroup(members)

  const f = members.filter((m) => isFinished(m) && !m.unrevealed).sort(fasterFirst)
  const decided = new Map<GroupMember, { transition: Transition; qosScore: number | null }>()
  for (const m of members) {
    if (!m.unrevealed) continue
    if (m.status !== TaskStatus.TASK_STATUS_SCORE_READY)
      throw new TaskRuleError('INVALID_GROUP', `task ${m.id}: only a committed (ScoreReady) member can be unrevealed`)
    decided.set(m, { transition: { status: TaskStatus.TASK_STATUS_END_INVALIDATED, abortReason: AbortReason.ABORT_REASON_NONE }, qosScore: 0 })
  }
  const abortAll = f.length <= 1 ? AbortReason.ABORT_REASON_GROUP_TIMEOUT : AbortReason.ABORT_REASON_INCORRECT_RESULT
  f.forEach((m, i) => {
    decided.set(m, { transition: { status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: abortAll }, qosScore: GROUP_QOS_SCORES[i]! })
  })

  const { majority, outliers } = tableRow(f, threshold)
  // Only a majority that agreed on a score produces a result to deliver; a
  // majority of error reports keeps the default EndAborted(IncorrectResult).
  if (majority.length > 0 && f[majority[0]!]!.status === TaskStatus.TASK_STATUS_SCORE_READY) {
    majority.forEach((pos, k) => {
      const status = k === 0 ? TaskStatus.TASK_STATUS_GROUP_VALIDATED : TaskStatus.TASK_STATUS_END_GROUP_REFUND
      decided.get(f[pos]!)!.transition = { status, abortReason: AbortReason.ABORT_REASON_NONE }
    })
  }
  // Only a majority that agreed on a score convicts its outlier. Beryl checks a task's arguments at
  // creation, so an error report is never evidence: two colluding reporters outvoting an honest score
  // (Crynux's table slashes it) would slash honest nodes for free. The digital twin found it.
  if (majority.length > 0 && f[majority[0]!]!.status === TaskStatus.TASK_STATUS_SCORE_READY) {
    for (const pos of outliers) {
      decided.set(f[pos]!, { transition: { status: TaskStatus.TASK_STATUS_END_INVALIDATED, abortReason: AbortReason.ABORT_REASON_NONE }, qosScore: 0 })
    }
  }

  const outcomes: MemberOutcome[] = members.map((m) => {
    const d = decided.get(m)
    if (d) return { id: m.id, node: m.node, ...d.transition, qosScore: d.qosScore, changed: true }
    // Already EndAborted. In the relay's QoS, a member that timed out scores 0 when someone
    // else finished; the relay applies no score for other abort reasons, and
    // none at all when nobody finished.
    const qosScore = f.length > 0 && m.abortReason === AbortReason.ABORT_REASON_TIMEOUT ? 0 : null
    return { id: m.id, node: m.node, status: m.status, abortReason: m.abortReason!, qosScore, changed: false }
  })

  // The representative first (the keeper settles the group through it), then the others fastest first.
  const matching: MatchingMember[] = []
  const byRole = majority.length > 0 ? [f[majority[0]!]!, ...f.filter((m) => m !== f[majority[0]!])] : f
  for (const m of byRole) {
    const d = decided.get(m)!
    if (d.transition.status !== TaskStatus.TASK_STATUS_GROUP_VALIDATED && d.transition.status !== TaskStatus.TASK_STATUS_END_GROUP_REFUND) continue
    if (!m.node) throw new TaskRuleError('INVALID_GROUP', `task ${m.id} is ${statusName(m.status)} without a selected node`)
    matching.push({ id: m.id, node: m.node, qosScore: d.qosScore! })
  }

  return {
    members: outcomes,
    ranked: f.map((m) => m.id),
    representative: matching.length > 0 ? matching[0]!.id : null,
    matching,
  }
}
