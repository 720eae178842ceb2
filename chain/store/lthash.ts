import { createHash } from 'node:crypto'

/**
 * LtHash16 (Lewi, Kim, Maykov, Weis: "Securing Update Propagation with Homomorphic Hashing",
 * 2019): a set hash over the whole state that can be updated per write. Each (key, value) entry
 * expands through SHAKE256 to 1024 lanes of 16 bits; the state hash is the lane-wise sum mod 2^16
 * of all entries. Adding and removing entries commutes, so the result is independent of write
 * order and of history: two stores holding the same entries have the same hash.
 * See docs/decisions/0002-app-hash.md.
 */
export const LTHASH_BYTES = 2048
const LANES = LTHASH_BYTES / 2

export function entryDigest(key: Uint8Array, value: Uint8Array): Uint8Array {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(key.length)
  return createHash('shake256', { outputLength: LTHASH_BYTES }).update(len).update(key).update(value).digest()
}

export class LtHash {
  readonly lanes: Uint16Array

  constructor(bytes?: Uint8Array) {
    this.lanes = new Uint16Array(LANES)
    if (bytes) {
      if (bytes.length !== LTHASH_BYTES) throw new Error(`LtHash state must be ${LTHASH_BYTES} bytes`)
      for (let i = 0; i < LANES; i++) this.lanes[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8)
    }
  }

  add(key: Uint8Array, value: Uint8Array): void {
    this.combine(entryDigest(key, value), 1)
  }
  remove(key: Uint8Array, value: Uint8Array): void {
    this.combine(entryDigest(key, value), -1)
  }

  private combine(d: Uint8Array, sign: 1 | -1): void {
    const l = this.lanes
    for (let i = 0; i < LANES; i++) l[i] = l[i]! + sign * (d[2 * i]! | (d[2 * i + 1]! << 8))
  }

  /** Little-endian lane bytes: the same on every machine whatever its native byte order. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(LTHASH_BYTES)
    for (let i = 0; i < LANES; i++) {
      out[2 * i] = this.lanes[i]! & 0xff
      out[2 * i + 1] = this.lanes[i]! >> 8
    }
    return out
  }

  clone(): LtHash {
    return new LtHash(this.toBytes())
  }

  /** The 32-byte app hash CometBFT records: sha256 over a domain tag and the lanes. */
  digest(): Uint8Array {
    return createHash('sha256').update('beryl/apphash/v1').update(this.toBytes()).digest()
  }
}
