// Task lifecycle vocabulary of the relay era of Crynux (crynux.md §1.2, §1.3).
//
// The numeric values are Crynux's own: the relay's models.TaskStatus and
// TaskAbortReason reuse the VSSTask.sol numbering, and existing nodes, bridges
// and explorers read these numbers. §11 asks us to keep them. So values that
// Crynux defines but the relay never sets are *reserved* here rather than
// renumbered away. The protobuf enums that come later must use the same numbers
// and reserve the same gaps.

/**
 * Task status (crynux.md §1.2 enum, relay-era subset §1.3).
 *
 * | value | status          | terminal |
 * |------:|-----------------|----------|
 * | 0     | Queued          |          |
 * | 1     | Started         |          |
 * | 2     | *reserved*: ParametersUploaded, never set since the relay takes args at creation | |
 * | 3     | ErrorReported   |          |
 * | 4     | ScoreReady      |          |
 * | 5     | Validated       |          |
 * | 6     | GroupValidated  |          |
 * | 7     | EndInvalidated  | yes      |
 * | 8     | EndSuccess      | yes      |
 * | 9     | EndAborted      | yes      |
 * | 10    | EndGroupRefund  | yes      |
 * | 11    | EndGroupSuccess | yes      |
 */
export enum TaskStatus {
  Queued = 0,
  Started = 1,
  ErrorReported = 3,
  ScoreReady = 4,
  Validated = 5,
  GroupValidated = 6,
  EndInvalidated = 7,
  EndSuccess = 8,
  EndAborted = 9,
  EndGroupRefund = 10,
  EndGroupSuccess = 11,
}

/**
 * Why a task ended in EndAborted (crynux.md §1.3).
 *
 * | value | reason                   | set when |
 * |------:|--------------------------|----------|
 * | 0     | None                     | the task is not EndAborted |
 * | 1     | Timeout                  | queue timeout, or execution timeout after Started |
 * | 2     | *reserved*: ModelDownloadFailed (defined, never set by Crynux) | |
 * | 3     | IncorrectResult          | a validation group found no majority |
 * | 4     | *reserved*: TaskFeeTooLow (defined, never set by Crynux) | |
 * | 5     | GroupTimeout             | fewer than 2 group members finished |
 * | 6     | ErrorReported            | a non-sampled task's node reported an error |
 * | 7     | CreatorCancelled         | the creator cancelled a Queued task |
 * | 8     | CreatorValidationTimeout | the creator never validated; the node is paid |
 * | 9     | ResultUploadTimeout      | a validated node never uploaded its result |
 * | 10    | NodeSlashed              | the node was slashed while running the task |
 */
export enum AbortReason {
  None = 0,
  Timeout = 1,
  IncorrectResult = 3,
  GroupTimeout = 5,
  ErrorReported = 6,
  CreatorCancelled = 7,
  CreatorValidationTimeout = 8,
  ResultUploadTimeout = 9,
  NodeSlashed = 10,
}

/**
 * What a task computes, which decides how scores compare (crynux.md §2.1, §2.3).
 *
 * | value | type  | Crynux name | score |
 * |------:|-------|-------------|-------|
 * | 0     | IMAGE | SD          | one 8-byte pHash per image, compared by Hamming distance |
 * | 1     | TEXT  | LLM         | one 32-byte SHA-256 per output, compared for equality |
 * | 2     | *reserved*: SD_FT_LORA (fine-tuning, not in Beryl yet) | | |
 */
export enum TaskType {
  IMAGE = 0,
  TEXT = 1,
}

/**
 * The error a node reports instead of a score (crynux.md §1.2 `TaskError`).
 * A node reports only argument-validation failures; anything else it lets time
 * out, because a report that disagrees with two scores is slashed (§6.2).
 *
 * | value | error |
 * |------:|-------|
 * | 0     | NONE  |
 * | 1     | PARAMETERS_INVALID (Crynux: ParametersValidationFailed) |
 */
export enum TaskError {
  NONE = 0,
  PARAMETERS_INVALID = 1,
}

const TERMINAL: ReadonlySet<TaskStatus> = new Set([
  TaskStatus.EndInvalidated,
  TaskStatus.EndSuccess,
  TaskStatus.EndAborted,
  TaskStatus.EndGroupRefund,
  TaskStatus.EndGroupSuccess,
])

/** A terminal task never changes again and has had its escrow settled. */
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status)
}

/** "EndAborted(GroupTimeout)"-style text for error messages. */
export function describeStatus(status: TaskStatus, reason: AbortReason = AbortReason.None): string {
  const name = TaskStatus[status] ?? `status ${String(status)}`
  if (status !== TaskStatus.EndAborted) return name
  return `${name}(${AbortReason[reason] ?? `reason ${String(reason)}`})`
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

/**
 * The one error type thrown by the task module's pure rules, with a
 * machine-readable code. The keeper maps these codes to registered chain
 * errors (codespace "task"); keeping the registration out of these files lets
 * them load without the runtime.
 */
export class TaskRuleError extends Error {
  readonly code: TaskRuleErrorCode
  constructor(code: TaskRuleErrorCode, message: string) {
    super(message)
    this.name = 'TaskRuleError'
    this.code = code
  }
}
