/**
 * mulberry32: a small seeded PRNG for test inputs, so every run checks the same cases. Not for
 * anything on chain (the chain's randomness is the vss module's).
 */
export function prng(seed: number) {
  let a = seed >>> 0
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  return {
    u32,
    /** Integer in [0, n) for n <= 2^32 (the tiny modulo bias is irrelevant for test inputs). */
    int: (n: number): number => u32() % n,
    /** A float in [0, 1). */
    float: (): number => u32() / 4294967296,
    /** A bigint of up to `bits` random bits. */
    big: (bits: number): bigint => {
      let x = 0n
      for (let b = 0; b < bits; b += 32) x = (x << 32n) | BigInt(u32())
      return x & ((1n << BigInt(bits)) - 1n)
    },
  }
}
