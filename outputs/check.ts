// A task's output fingerprint — the score a node submits and everyone checks outputs against:
// one goimagehash pHash (8 bytes) per PNG for an image task, one sha256 (32 bytes) per output for
// a text task, concatenated in output order.
//
// This folder is a leaf (docs/decisions/0012): it knows outputs by their kind, 'image' or 'text',
// and imports nothing of the chain, so that the worker, the gateway and the SDK share it.
import { createHash } from 'node:crypto'
import { HASH_BYTES, phashPng } from './phash/phash.ts'

/** What a task produces: PNG images, or text outputs (JSON chat completions). */
export type OutputKind = 'image' | 'text'

/** Bytes of one output's fingerprint in a score. */
export const FINGERPRINT_BYTES: Readonly<Record<OutputKind, number>> = { image: HASH_BYTES, text: 32 }

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/** The score of these output files. Throws if an image is not a readable PNG. */
export async function fingerprint(kind: OutputKind, files: Uint8Array[]): Promise<Uint8Array> {
  const parts = await Promise.all(files.map((f) => (kind === 'image' ? phashPng(f) : sha256(f))))
  return Buffer.concat(parts)
}

/** Checks output files against a score; a reason when they do not reproduce it exactly. */
export async function checkOutputs(kind: OutputKind, score: Uint8Array, files: Uint8Array[]): Promise<string | undefined> {
  const image = kind === 'image'
  const unit = FINGERPRINT_BYTES[kind]
  const expected = score.length / unit
  if (files.length !== expected) return `the score covers ${expected} output(s); the upload has ${files.length}`
  for (let i = 0; i < files.length; i++) {
    let fp: Uint8Array
    if (image) {
      try {
        fp = await phashPng(files[i]!)
      } catch (err) {
        return `file ${i} is not a readable PNG: ${(err as Error).message}`
      }
    } else {
      fp = sha256(files[i]!)
    }
    const want = score.subarray(i * unit, (i + 1) * unit)
    if (!Buffer.from(fp).equals(Buffer.from(want))) return `file ${i} has ${image ? 'pHash' : 'sha256'} ${hex(fp)}, but the score on chain is ${hex(want)}`
  }
  return undefined
}
