/** Key-building helpers shared by modules: fixed-width big-endian integers keep key order numeric. */

/** 8-byte big-endian unsigned; negative values (never expected) clamp to 0. */
export function u64be(n: bigint): Uint8Array {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(n < 0n ? 0n : n)
  return b
}

/** A one-byte collection prefix followed by key parts. */
export function prefixedKey(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat([Uint8Array.of(prefix), ...parts])
}
