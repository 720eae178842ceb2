import { registerError } from '../../chain/errors.ts'

export const MODULE = 'task'

export const TaskErrors = {
  InvalidTask: registerError(MODULE, 2, 'invalid task'),
  TaskExists: registerError(MODULE, 3, 'a task with this commitment already exists'),
  TaskNotFound: registerError(MODULE, 4, 'no such task'),
  WrongStatus: registerError(MODULE, 5, "not allowed in the task's current status"),
  NotCreator: registerError(MODULE, 6, "only the task's creator may do this"),
  TooFewNodes: registerError(MODULE, 7, 'too few serving nodes meet every filter of this task for it to be run and cross-validated honestly'),
  FeeNotSecurable: registerError(MODULE, 8, 'no sampling rate makes a Sybil attack on this fee unprofitable'),
  NotSelectedNode: registerError(MODULE, 9, "only the task's selected node may do this"),
  InvalidScore: registerError(MODULE, 10, 'invalid score'),
  InvalidValidation: registerError(MODULE, 11, 'invalid validation'),
  NotAttester: registerError(MODULE, 12, 'only a bonded validator attests results'),
  QueueFull: registerError(MODULE, 13, "the queue is full and this task's priority is not above the lowest queued one"),
  InvalidReveal: registerError(MODULE, 14, "the reveal does not open the node's score commitment"),
  AlreadyAttested: registerError(MODULE, 15, 'this validator already attested another result for the task'),
}
