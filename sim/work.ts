import { createHash } from 'node:crypto'
import { TaskType, type Task } from '../modules/task/index.ts'
import type { Rng } from './rng.ts'

// What running a task produces, in the twin: the "true" output of a task is a function of its
// arguments (the network's models are deterministic up to GPU noise), and a score is that
// output's fingerprint. An image's pHash moves by a few bits from GPU to GPU (honest jitter); a
// text output's SHA-256 is exact on one GPU class. A faked output is anything else.

const digest = (...parts: Array<string | Uint8Array>) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** Bytes of one score: an 8-byte pHash per image, a 32-byte SHA-256 per text output. */
export function scoreLength(t: Task): number {
  if (t.taskType === TaskType.TASK_TYPE_TEXT) return 32
  const n = (JSON.parse(t.args) as { num_images?: number }).num_images ?? 1
  return 8 * n
}

/** The output's fingerprint with no noise: what every honest node's score is close to. */
export function trueScore(t: Task): Uint8Array {
  const len = scoreLength(t)
  const out = new Uint8Array(len)
  for (let o = 0; o < len; o += 32) out.set(digest('beryl-sim-output/', t.args, String(o)).subarray(0, Math.min(32, len - o)), o)
  return out
}

/**
 * An honest node's score: the true one, and for images each 8-byte pHash with exactly `jitterBits`
 * distinct bits flipped (this GPU's noise). Two honest nodes then differ by at most 2·jitterBits,
 * which stays under a threshold T when jitterBits ≤ (T − 1) / 2: "jitter at the threshold's edge"
 * is jitterBits = floor((T − 1) / 2).
 */
export function honestScore(t: Task, rng: Rng, jitterBits: number): Uint8Array {
  const s = trueScore(t)
  if (t.taskType !== TaskType.TASK_TYPE_IMAGE || jitterBits <= 0) return s
  for (let o = 0; o < s.length; o += 8) for (const bit of rng.distinct(jitterBits, 64)) s[o + (bit >> 3)]! ^= 1 << (bit & 7)
  return s
}

/** A fake: random bytes (far from the true score with overwhelming probability). */
export function randomScore(t: Task, rng: Rng): Uint8Array {
  const s = rng.bytes(scoreLength(t))
  s[0]! |= 1 // never all zero
  return s
}

/** The fake a coordinated ring agrees on for these arguments: identical across its nodes, no talk needed. */
export function ringScore(t: Task, ringSecret: string): Uint8Array {
  const len = scoreLength(t)
  const out = new Uint8Array(len)
  for (let o = 0; o < len; o += 32) out.set(digest('beryl-sim-ring/', ringSecret, t.args, String(o)).subarray(0, Math.min(32, len - o)), o)
  out[0]! |= 1
  return out
}

/** The hash of the file a node uploads (the gateway checks it against the score; the twin's files always match their scores). */
export function resultHash(score: Uint8Array): Uint8Array {
  return digest('beryl-sim-file/', score)
}
