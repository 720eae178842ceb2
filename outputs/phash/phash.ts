// Perceptual hash, bit-exact with goimagehash v1.1.0 `PerceptionHash`
// (used by Crynux nodes and relay to fingerprint generated images).
//
//   1. nfnt/resize Bilinear to 64×64            (resize.ts; skipped if already 64×64)
//   2. grey = 0.299·(R/257) + 0.587·(G/257) + 0.114·(B/256) with integer
//      division of the premultiplied 16-bit samples (the /256 on blue is
//      goimagehash's, kept on purpose)
//   3. unscaled 2-D DCT-II                        (dct.ts)
//   4. top-left 8×8 coefficients, DC included, row-major
//   5. "median" by goimagehash's quickselect over the 64 values, ported
//      literally; it always equals the mean of the two middle values
//      (checked by analysis and random trials, see README)
//   6. bit 63−i set when coefficient i > median; uint64 written big-endian
//
// Step 2 and the DCT use float64 in Go's operation order (see dct.ts).

import { dct2d64 } from './dct.ts'
import { type DecodedImage, assertImage, premultipliedPalette } from './image.ts'
import { decodePng, decodePngSync } from './png.ts'
import { resizeBilinear } from './resize.ts'

export { decodePng, decodePngSync, PngError, parsePngChunks, MAX_DIMENSION, MAX_PIXELS } from './png.ts'
export type { DecodedImage, GoImageKind } from './image.ts'
export { resizeBilinear } from './resize.ts'

/** Bytes per image in a score (one 64-bit hash). */
export const HASH_BYTES = 8

// goimagehash's pixel2Gray. Evaluated left to right as Go does:
// (0.299·r + 0.587·g) + 0.114·b, each product rounded separately.
function gray(r: number, g: number, b: number): number {
  return 0.299 * ((r / 257) | 0) + 0.587 * ((g / 257) | 0) + 0.114 * ((b / 256) | 0)
}

/**
 * Fills `out` (4096 values, row-major) with the grey levels of a 64×64 image,
 * reading each pixel through Go's `At(x, y).RGBA()` for its concrete type.
 */
function grayscale64(img: DecodedImage, out: Float64Array): void {
  const { pix, stride } = img
  const pal = img.kind === 'Paletted' ? premultipliedPalette(img.palette!) : undefined
  for (let y = 0; y < 64; y++) {
    const row = y * stride
    for (let x = 0; x < 64; x++) {
      let r: number, g: number, b: number
      switch (img.kind) {
        case 'Gray':
          r = g = b = pix[row + x]! * 0x101
          break
        case 'Gray16':
          r = g = b = (pix[row + 2 * x]! << 8) | pix[row + 2 * x + 1]!
          break
        case 'RGBA': {
          const p = row + 4 * x
          r = pix[p]! * 0x101
          g = pix[p + 1]! * 0x101
          b = pix[p + 2]! * 0x101
          break
        }
        case 'NRGBA': {
          // color.NRGBA.RGBA(): widen to 16 bits, then scale by the 8-bit alpha.
          const p = row + 4 * x
          const a = pix[p + 3]!
          r = Math.floor((pix[p]! * 0x101 * a) / 0xff)
          g = Math.floor((pix[p + 1]! * 0x101 * a) / 0xff)
          b = Math.floor((pix[p + 2]! * 0x101 * a) / 0xff)
          break
        }
        case 'RGBA64': {
          const p = row + 8 * x
          r = (pix[p]! << 8) | pix[p + 1]!
          g = (pix[p + 2]! << 8) | pix[p + 3]!
          b = (pix[p + 4]! << 8) | pix[p + 5]!
          break
        }
        case 'NRGBA64': {
          const p = row + 8 * x
          const a = (pix[p + 6]! << 8) | pix[p + 7]!
          r = Math.floor((((pix[p]! << 8) | pix[p + 1]!) * a) / 0xffff)
          g = Math.floor((((pix[p + 2]! << 8) | pix[p + 3]!) * a) / 0xffff)
          b = Math.floor((((pix[p + 4]! << 8) | pix[p + 5]!) * a) / 0xffff)
          break
        }
        case 'Paletted': {
          const e = pix[row + x]! * 4
          r = pal![e]!
          g = pal![e + 1]!
          b = pal![e + 2]!
          break
        }
        default:
          throw new Error(`phash: unsupported image kind ${String(img.kind)}`)
      }
      out[y * 64 + x] = gray(r, g, b)
    }
  }
}

/**
 * goimagehash `quickSelectMedian(seq, 0, 63, 32)` on a copy of the 64
 * coefficients. The partition keeps `hi = storeIdx` (not storeIdx − 1) and the
 * result for an even count is seq[31]/2 + seq[32]/2 of whatever order the
 * partitioning left, which is what the hash bits are compared against.
 */
export function goimagehashMedian(values: ArrayLike<number>): number {
  const seq = Float64Array.from(values)
  const k = seq.length >> 1
  let low = 0
  let hi = seq.length - 1
  if (low === hi) return seq[k]!
  while (low < hi) {
    // Go: low/2 + hi/2 with integer division on each half.
    const pivot = (low >> 1) + (hi >> 1)
    const pivotValue = seq[pivot]!
    let storeIdx = low
    seq[pivot] = seq[hi]!
    seq[hi] = pivotValue
    for (let i = low; i < hi; i++) {
      if (seq[i]! < pivotValue) {
        const t = seq[storeIdx]!
        seq[storeIdx] = seq[i]!
        seq[i] = t
        storeIdx++
      }
    }
    const t = seq[hi]!
    seq[hi] = seq[storeIdx]!
    seq[storeIdx] = t
    if (k <= storeIdx) hi = storeIdx
    else low = storeIdx + 1
  }
  if (seq.length % 2 === 0) return seq[k - 1]! / 2 + seq[k]! / 2
  return seq[k]!
}

const pixels = new Float64Array(4096)

/**
 * goimagehash v1.1.0 `PerceptionHash(img).GetHash()` as 8 big-endian bytes.
 * `img` must be shaped as `png.Decode` would return it (see {@link decodePng}).
 */
export function perceptionHash(img: DecodedImage): Uint8Array {
  assertImage(img)
  const resized = resizeBilinear(img, 64, 64)
  grayscale64(resized, pixels)
  dct2d64(pixels)
  const flat = new Float64Array(64)
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) flat[8 * i + j] = pixels[i * 64 + j]!
  }
  const median = goimagehashMedian(flat)
  const out = new Uint8Array(HASH_BYTES)
  for (let idx = 0; idx < 64; idx++) {
    // Bit 63−idx of the uint64 is bit 7−(idx mod 8) of big-endian byte idx/8.
    if (flat[idx]! > median) out[idx >> 3]! |= 0x80 >> (idx & 7)
  }
  return out
}

/** Decode a PNG as Go's image/png would and hash it. Rejects on any input png.Decode rejects. */
export async function phashPng(bytes: Uint8Array): Promise<Uint8Array> {
  return perceptionHash(await decodePng(bytes))
}

/** Synchronous {@link phashPng}. */
export function phashPngSync(bytes: Uint8Array): Uint8Array {
  return perceptionHash(decodePngSync(bytes))
}

/** 16 lowercase hex digits, the same text as Go's `fmt.Sprintf("%016x", hash.GetHash())`. */
export function phashHex(hash: Uint8Array): string {
  if (hash.length !== HASH_BYTES) throw new Error(`phashHex: expected ${HASH_BYTES} bytes, got ${hash.length}`)
  return Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString('hex')
}

const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0
  for (let v = i; v; v >>= 1) n += v & 1
  return n
})

/** Number of differing bits between two 8-byte hashes. */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== HASH_BYTES || b.length !== HASH_BYTES) {
    throw new Error(`hammingDistance: both hashes must be ${HASH_BYTES} bytes (got ${a.length} and ${b.length})`)
  }
  let d = 0
  for (let i = 0; i < HASH_BYTES; i++) d += POPCOUNT8[a[i]! ^ b[i]!]!
  return d
}

/**
 * Crynux's score comparison (Hamming.sol `compareHamming`, relay
 * `checkHammingDistance`): two scores are concatenations of one 8-byte hash
 * per image. They match when both have the same non-zero length that is a
 * multiple of 8 and every image's distance is strictly below `threshold`;
 * there is no averaging across images.
 */
export function compareImageScores(a: Uint8Array, b: Uint8Array, threshold: number): boolean {
  if (a.length !== b.length || a.length === 0 || a.length % HASH_BYTES !== 0) return false
  for (let o = 0; o < a.length; o += HASH_BYTES) {
    if (hammingDistance(a.subarray(o, o + HASH_BYTES), b.subarray(o, o + HASH_BYTES)) >= threshold) return false
  }
  return true
}
