/** Key-building helpers shared by modules: fixed-width big-endian integers keep key order numeric. */

/** 8-byte big-endian unsigned; negative values (never expected) clamp to 0. */
export function u64be(n: bigint): Uint8Array {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(n < 0n ? 0n : n)
  return b
}

/** A one-byte collection prefix followed by key parts. */
export function prefixedKey(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  // Built in place: Buffer.concat takes a slice of Node's shared pool, whose refills cost more than the key.
  let n = 1
  for (const p of parts) n += p.length
  const k = new Uint8Array(n)
  k[0] = prefix
  let at = 1
  for (const p of parts) {
    k.set(p, at)
    at += p.length
  }
  return k
}
