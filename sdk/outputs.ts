// The SDK's view of output fingerprints: the same check as outputs/ (the leaf the worker and the
// gateway use too), addressed by the chain's task type.
import { createHash } from 'node:crypto'
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

/**
 * Checks an upload against a task's answer on chain. Revealed score: the files must reproduce it.
 * Only a commitment (a validated single task): the files' score with the node's salt must open it;
 * then `score` is the reveal the attestation carries.
 */
export async function checkUpload(
  task: Pick<Task, 'taskType' | 'score' | 'scoreCommitment'>,
  files: Uint8Array[],
  salt: Uint8Array,
): Promise<{ error: string } | { score: Uint8Array }> {
  if (task.score.length) {
    const error = await checkOutputs(task, files)
    return error ? { error } : { score: task.score }
  }
  if (salt.length !== 32) return { error: `the upload of a validated task carries the 32-byte salt of its score commitment, got ${salt.length} bytes` }
  let score: Uint8Array
  try {
    score = await fingerprint(task.taskType, files)
  } catch (err) {
    return { error: `the files have no score: ${(err as Error).message}` }
  }
  const opened = createHash('sha256').update(score).update(salt).digest()
  if (!opened.equals(Buffer.from(task.scoreCommitment)))
    return {
      error: `sha256(score of the files ‖ salt) is ${opened.toString('hex')}, not the commitment on chain ${Buffer.from(task.scoreCommitment).toString('hex')}`,
    }
  return { score }
}

/** Checks output files against a task's score on chain; a reason when they do not reproduce it exactly. */
export function checkOutputs(task: Pick<Task, 'taskType' | 'score'>, files: Uint8Array[]): Promise<string | undefined> {
  return checkKind(outputKind(task.taskType), task.score, files)
}
