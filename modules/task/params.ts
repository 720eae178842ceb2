import type { Params } from '../../proto/gen/beryl/task/v1/types.ts'

export const DEFAULT_PARAMS: Params = {
  queueTimeout: 21_600n,
  hammingThreshold: 24,
  creatorValidationTimeout: 600n,
  resultUploadTimeout: 600n,
  minExecutionTimeout: 60n,
  maxExecutionTimeout: 7_200n,
  protocolFeeShare: '0',
  maxArgsBytes: 16_384,
  minEligibleNodes: 10,
  maxQueuedTasks: 10_000,
  revealWindow: 600n,
  maxSeatRetries: 2,
  answerHold: 30n,
}

/** Genesis checks of the task parameters. */
export function validateParams(p: Params): void {
  if (p.minExecutionTimeout <= 0n || p.maxExecutionTimeout < p.minExecutionTimeout)
    throw new Error('task params: need 0 < min_execution_timeout <= max_execution_timeout')
  if (p.minEligibleNodes < 3) throw new Error('task params: min_eligible_nodes must be at least 3 (a validation group needs three distinct nodes)')
  if (p.maxQueuedTasks < 1) throw new Error('task params: max_queued_tasks must be at least 1')
  if (p.revealWindow <= 0n) throw new Error('task params: reveal_window must be positive (seconds)')
  if (p.answerHold < 0n || p.answerHold > p.creatorValidationTimeout)
    throw new Error('task params: answer_hold must be between 0 and creator_validation_timeout (seconds)')
  if (p.maxSeatRetries > 10) throw new Error('task params: max_seat_retries must be at most 10')
}
