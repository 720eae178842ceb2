// The SDK's view of output fingerprints: the same check as outputs/ (the leaf the worker and the
// gateway use too), addressed by the chain's task type.
import { type OutputKind, checkOutputs as checkKind, fingerprint as fingerprintKind } from '../outputs/check.ts'
import { type Task, TaskType } from '../proto/gen/beryl/task/v1/types.ts'

/** The kind of output a task type produces. */
export function outputKind(type: TaskType): OutputKind {
  return type === TaskType.TASK_TYPE_IMAGE ? 'image' : 'text'
}

/** The score of a task's output files (pHash per PNG, sha256 per text output). Throws if an image is not a readable PNG. */
export function fingerprint(type: TaskType, files: Uint8Array[]): Promise<Uint8Array> {
  return fingerprintKind(outputKind(type), files)
}

/** Checks output files against a task's score on chain; a reason when they do not reproduce it exactly. */
export function checkOutputs(task: Pick<Task, 'taskType' | 'score'>, files: Uint8Array[]): Promise<string | undefined> {
  return checkKind(outputKind(task.taskType), task.score, files)
}
