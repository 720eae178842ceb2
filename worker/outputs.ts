// A task's output fingerprint — the score a node submits and everyone checks outputs against:
// one goimagehash pHash (8 bytes) per PNG for an image task, one sha256 (32 bytes) per output for
// a text task, concatenated in output order.
import { createHash } from 'node:crypto'
import { type Task, TaskType } from '../proto/gen/beryl/task/v1/types.ts'
import { HASH_BYTES, phashPng } from './phash/phash.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/** The score of these output files. Throws if an image is not a readable PNG. */
export async function fingerprint(type: TaskType, files: Uint8Array[]): Promise<Uint8Array> {
  const parts = await Promise.all(files.map((f) => (type === TaskType.TASK_TYPE_IMAGE ? phashPng(f) : sha256(f))))
  return Buffer.concat(parts)
}

/** Checks output files against a task's score on chain; a reason when they do not reproduce it exactly. */
export async function checkOutputs(task: Pick<Task, 'taskType' | 'score'>, files: Uint8Array[]): Promise<string | undefined> {
  const image = task.taskType === TaskType.TASK_TYPE_IMAGE
  const unit = image ? HASH_BYTES : 32
  const expected = task.score.length / unit
  if (files.length !== expected) return `the score covers ${expected} output(s); the upload has ${files.length}`
  for (let i = 0; i < files.length; i++) {
    let fp: Uint8Array
    if (image) {
      try { fp = await phashPng(files[i]!) } catch (err) { return `file ${i} is not a readable PNG: ${(err as Error).message}` }
    } else {
      fp = sha256(files[i]!)
    }
    const want = task.score.subarray(i * unit, (i + 1) * unit)
    if (!Buffer.from(fp).equals(Buffer.from(want))) return `file ${i} has ${image ? 'pHash' : 'sha256'} ${hex(fp)}, but the score on chain is ${hex(want)}`
  }
  return undefined
}
