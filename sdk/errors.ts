import type { Task } from '../proto/gen/beryl/task/v1/types.ts'

/** Something went wrong with a task; `tasks` is the chain's record of its member(s) when known. */
export class BerylTaskError extends Error {
  constructor(
    message: string,
    readonly taskId: string,
    readonly tasks: Task[] = [],
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** The chain ended the task without an output: aborted (with the chain's reason) or invalidated. */
export class TaskEndedError extends BerylTaskError {
  constructor(
    message: string,
    taskId: string,
    tasks: Task[],
    readonly status: string,
    readonly reason: string,
    readonly refunded: bigint,
  ) {
    super(message, taskId, tasks)
  }
}

/** A transaction of the flow was refused (CheckTx) or failed in its block. */
export class TaskTxError extends BerylTaskError {
  constructor(
    message: string,
    taskId: string,
    readonly code: number,
    readonly log: string,
  ) {
    super(message, taskId)
  }
}

/** No gateway delivered an output that matches the score on chain; `gateways` holds each one's last reason. */
export class OutputUnavailableError extends BerylTaskError {
  constructor(
    message: string,
    taskId: string,
    tasks: Task[] = [],
    readonly gateways: Array<{ gateway: string; error: string }> = [],
  ) {
    super(message, taskId, tasks)
  }
}

/** The caller's time limit passed; the task goes on on chain and `resumeTask(taskId)` picks it up. */
export class TaskTimeoutError extends BerylTaskError {}

/** The caller's AbortSignal fired; the task goes on on chain (cancel it while queued with `cancelTask`). */
export class TaskCancelledError extends BerylTaskError {}
