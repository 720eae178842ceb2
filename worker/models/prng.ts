// Counter-mode PRNG over SHA-256, shared by the model builder (weights) and the
// task runners (latent noise, token sampling).
//
// Why SHA-256 and not a faster generator: every node in the network must derive
// the same stream from the same seed, on any CPU and Node version, and the
// builder's output bytes are the model's identity. SHA-256 is specified to the
// bit, and the conversions below use only integer ops and exactly-rounded IEEE
// arithmetic (+, *, /, sqrt), so the numbers cannot drift between machines.
// Only `gaussian()` uses Math.log/Math.cos/Math.sin; V8 implements those with a
// software port of fdlibm, so they are the same on every platform Node runs on.
import { createHash } from 'node:crypto'

export type SeedPart = string | number | bigint | Uint8Array

const enc = new TextEncoder()

// Each part is tagged and length-prefixed so ("ab","c") and ("a","bc") differ.
function encodePart(p: SeedPart): Uint8Array {
  let tag: number
  let body: Uint8Array
  if (typeof p === 'string') {
    tag = 1
    body = enc.encode(p)
  } else if (typeof p === 'number' || typeof p === 'bigint') {
    const v = BigInt(p)
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`seed part out of u64 range: ${p}`)
    tag = 2
    body = new Uint8Array(8)
    new DataView(body.buffer).setBigUint64(0, v, true)
  } else {
    tag = 3
    body = p
  }
  const out = new Uint8Array(5 + body.length)
  out[0] = tag
  new DataView(out.buffer).setUint32(1, body.length, true)
  out.set(body, 5)
  return out
}

export function deriveKey(...parts: SeedPart[]): Uint8Array {
  const h = createHash('sha256')
  h.update('beryl/prng/v1')
  for (const p of parts) h.update(encodePart(p))
  return new Uint8Array(h.digest())
}

export class HashStream {
  private readonly key: Uint8Array
  private counter = 0n
  private block = new Uint32Array(0)
  private pos = 0
  private spare: number | null = null

  constructor(...parts: SeedPart[]) {
    this.key = deriveKey(...parts)
  }

  private refill(): void {
    const ctr = new Uint8Array(8)
    new DataView(ctr.buffer).setBigUint64(0, this.counter, true)
    this.counter++
    const d = createHash('sha256').update(this.key).update(ctr).digest()
    // Read words little-endian explicitly rather than through a typed-array view,
    // which would follow the host's byte order.
    const words = new Uint32Array(8)
    for (let i = 0; i < 8; i++) words[i] = d.readUInt32LE(i * 4)
    this.block = words
    this.pos = 0
  }

  u32(): number {
    if (this.pos >= this.block.length) this.refill()
    return this.block[this.pos++]!
  }

  /** Uniform in [0, 1) with 53 random bits. */
  unit(): number {
    const hi = this.u32() >>> 5 // 27 bits
    const lo = this.u32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  gaussian(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    const u1 = 1 - this.unit() // (0, 1]: keeps log finite
    const u2 = this.unit()
    const r = Math.sqrt(-2 * Math.log(u1))
    const th = 2 * Math.PI * u2
    this.spare = r * Math.sin(th)
    return r * Math.cos(th)
  }
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}
