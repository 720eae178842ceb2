import { createHash } from 'node:crypto'

/**
 * A seeded random stream (xoshiro128**, seeded through SHA-256 of a label), so every agent draws
 * from its own stream and a run is a pure function of its seed: adding an agent or a draw in one
 * agent does not shift the draws of the others.
 */
export class Rng {
  private s: Uint32Array

  constructor(seed: string, label = '') {
    const h = createHash('sha256').update(`beryl-sim-rng/${seed}/${label}`).digest()
    this.s = new Uint32Array([h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12) | 1])
  }

  /** A child stream, independent of this one's later draws. */
  fork(label: string): Rng {
    return new Rng(`${this.next()}-${this.next()}`, label)
  }

  private next(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0
    const t = s[1]! << 9
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11)
    return result
  }

  /** Uniform in [0, 1) with 53 bits. */
  float(): number {
    return (this.next() * 2 ** 21 + (this.next() >>> 11)) / 2 ** 53
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!
  }

  /** Exponential with the given mean (Poisson inter-arrival times). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.float()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float())
  }

  /** Log-normal around a median with a spread sigma (execution times). */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal())
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.next()
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff
    }
    return out
  }

  /** k distinct integers from [0, n). */
  distinct(k: number, n: number): number[] {
    const out = new Set<number>()
    while (out.size < Math.min(k, n)) out.add(this.int(n))
    return [...out]
  }
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0
