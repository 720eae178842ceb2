// github.com/nfnt/resize (commit 83c6a99, the version goimagehash v1.1.0
// pins) `Resize(w, h, img, Bilinear)`, reproduced for the image types
// png.Decode returns.
//
// nfnt resizes in two separable passes. Pass one filters each source row and
// writes the result transposed (a source row becomes a column of a temporary
// image); pass two runs the same horizontal filter over the temporary image,
// which un-transposes it. Weights are fixed-point integers whose precision and
// accumulator width depend on the source type:
//   RGBA, NRGBA, Gray   → 8-bit path: int16 weights (×256), int32 sums, 8-bit output
//   RGBA64, NRGBA64, Gray16, anything else → 16-bit path: int32 weights (×65536), int64 sums
// NRGBA/NRGBA64 are premultiplied per sample before weighting; everything
// else (Paletted here) goes through the generic path, which reads each pixel
// as premultiplied 16-bit RGBA. Results are RGBA, RGBA64, Gray or Gray16.
//
// Integer semantics are Go's: truncating division, int32 wrap-around on the
// 8-bit path (emulated with `| 0`), clamping to the output range. The 16-bit
// path's int64 sums are exact in float64 because decodePng caps dimensions so
// every sum stays far below 2^53.

import { type DecodedImage, type GoImageKind, newImage, premultipliedPalette } from './image.ts'

interface Weights {
  coeffs: Int16Array | Int32Array
  start: Int32Array
  filterLength: number
}

/**
 * Source pixel index of every tap, clamped to [0, maxX] the way nfnt clamps
 * (taps past either edge repeat the edge pixel). Precomputed once per pass
 * instead of once per tap per row.
 */
function tapIndex(w: Weights, maxX: number): Int32Array {
  const { start, filterLength } = w
  const idx = new Int32Array(start.length * filterLength)
  for (let y = 0; y < start.length; y++) {
    for (let i = 0; i < filterLength; i++) idx[y * filterLength + i] = clampIndex(start[y]! + i, maxX)
  }
  return idx
}

// nfnt's `linear` kernel.
function linear(x: number): number {
  x = Math.abs(x)
  return x <= 1 ? 1 - x : 0
}

/**
 * nfnt `createWeights8` / `createWeights16` with taps = 2 (bilinear) and
 * blur = 1. `dy` is the number of output samples along the filtered axis.
 */
function createWeights(dy: number, scale: number, precision: 8 | 16): Weights {
  const blur = 1.0
  const filterLength = 2 * Math.trunc(Math.max(Math.ceil(blur * scale), 1))
  const filterFactor = Math.min(1 / (blur * scale), 1)
  const coeffs = precision === 8 ? new Int16Array(dy * filterLength) : new Int32Array(dy * filterLength)
  const mult = precision === 8 ? 256 : 65536
  const start = new Int32Array(dy)
  for (let y = 0; y < dy; y++) {
    let interpX = scale * (y + 0.5) - 0.5
    // Go's int() conversion truncates toward zero; filterLength is even.
    const s = Math.trunc(interpX) - filterLength / 2 + 1
    start[y] = s
    interpX -= s
    for (let i = 0; i < filterLength; i++) {
      const v = (interpX - i) * filterFactor
      coeffs[y * filterLength + i] = Math.trunc(linear(v) * mult)
    }
  }
  return { coeffs, start, filterLength }
}

function clampUint8(v: number): number {
  return v >>> 0 < 256 ? v : v > 255 ? 255 : 0
}

function clampUint16(v: number): number {
  return v >= 0 && v < 65536 ? v : v > 65535 ? 65535 : 0
}

function clampIndex(xi: number, maxX: number): number {
  return xi < 0 ? 0 : xi >= maxX ? maxX : xi
}

// Each pass function filters `rows` source rows (each `srcW` pixels wide) down
// to `outLen` samples and writes them transposed into `out`: source row x
// becomes output column x. `out` is outLen rows tall and `rows` pixels wide.

/** 8-bit path for RGBA (premultiply = false) and NRGBA (premultiply = true). */
function pass8x4(src: DecodedImage, out: DecodedImage, w: Weights, premultiply: boolean): void {
  const { pix: sp, stride: ss } = src
  const { pix: op, stride: os } = out
  const { coeffs, filterLength } = w
  const idx = tapIndex(w, src.width - 1)
  const rows = src.height
  const outLen = out.height
  for (let x = 0; x < rows; x++) {
    const rowBase = x * ss
    for (let y = 0; y < outLen; y++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0,
        sum = 0
      const ci = y * filterLength
      for (let i = ci; i < ci + filterLength; i++) {
        const coeff = coeffs[i]!
        if (coeff === 0) continue
        const p = rowBase + idx[i]! * 4
        const A = sp[p + 3]!
        if (premultiply) {
          r = (r + coeff * (((sp[p]! * A) / 0xff) | 0)) | 0
          g = (g + coeff * (((sp[p + 1]! * A) / 0xff) | 0)) | 0
          b = (b + coeff * (((sp[p + 2]! * A) / 0xff) | 0)) | 0
        } else {
          r = (r + coeff * sp[p]!) | 0
          g = (g + coeff * sp[p + 1]!) | 0
          b = (b + coeff * sp[p + 2]!) | 0
        }
        a = (a + coeff * A) | 0
        sum = (sum + coeff) | 0
      }
      const o = y * os + x * 4
      op[o] = clampUint8((r / sum) | 0)
      op[o + 1] = clampUint8((g / sum) | 0)
      op[o + 2] = clampUint8((b / sum) | 0)
      op[o + 3] = clampUint8((a / sum) | 0)
    }
  }
}

function passGray8(src: DecodedImage, out: DecodedImage, w: Weights): void {
  const { pix: sp, stride: ss } = src
  const { pix: op, stride: os } = out
  const { coeffs, filterLength } = w
  const idx = tapIndex(w, src.width - 1)
  for (let x = 0; x < src.height; x++) {
    const rowBase = x * ss
    for (let y = 0; y < out.height; y++) {
      let gray = 0,
        sum = 0
      const ci = y * filterLength
      for (let i = ci; i < ci + filterLength; i++) {
        const coeff = coeffs[i]!
        if (coeff === 0) continue
        gray = (gray + coeff * sp[rowBase + idx[i]!]!) | 0
        sum = (sum + coeff) | 0
      }
      op[y * os + x] = clampUint8((gray / sum) | 0)
    }
  }
}

function put16(p: Uint8Array, o: number, v: number): void {
  p[o] = v >>> 8
  p[o + 1] = v & 0xff
}

/**
 * 16-bit RGBA path. `mode` says how a source pixel becomes premultiplied
 * 16-bit RGBA: read as RGBA64, premultiply NRGBA64, or look up a palette.
 */
function pass16x4(src: DecodedImage, out: DecodedImage, w: Weights, mode: 'rgba64' | 'nrgba64' | 'palette'): void {
  const { pix: sp, stride: ss } = src
  const { pix: op, stride: os } = out
  const { coeffs, filterLength } = w
  const idx = tapIndex(w, src.width - 1)
  const pal = mode === 'palette' ? premultipliedPalette(src.palette!) : undefined
  for (let x = 0; x < src.height; x++) {
    const rowBase = x * ss
    for (let y = 0; y < out.height; y++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0,
        sum = 0
      const ci = y * filterLength
      for (let i = ci; i < ci + filterLength; i++) {
        const coeff = coeffs[i]!
        if (coeff === 0) continue
        const xi = idx[i]!
        let R: number, G: number, B: number, A: number
        if (pal !== undefined) {
          const e = sp[rowBase + xi]! * 4
          R = pal[e]!
          G = pal[e + 1]!
          B = pal[e + 2]!
          A = pal[e + 3]!
        } else {
          const p = rowBase + xi * 8
          R = (sp[p]! << 8) | sp[p + 1]!
          G = (sp[p + 2]! << 8) | sp[p + 3]!
          B = (sp[p + 4]! << 8) | sp[p + 5]!
          A = (sp[p + 6]! << 8) | sp[p + 7]!
          if (mode === 'nrgba64') {
            R = Math.floor((R * A) / 0xffff)
            G = Math.floor((G * A) / 0xffff)
            B = Math.floor((B * A) / 0xffff)
          }
        }
        r += coeff * R
        g += coeff * G
        b += coeff * B
        a += coeff * A
        sum += coeff
      }
      const o = y * os + x * 8
      put16(op, o, clampUint16(Math.trunc(r / sum)))
      put16(op, o + 2, clampUint16(Math.trunc(g / sum)))
      put16(op, o + 4, clampUint16(Math.trunc(b / sum)))
      put16(op, o + 6, clampUint16(Math.trunc(a / sum)))
    }
  }
}

function passGray16(src: DecodedImage, out: DecodedImage, w: Weights): void {
  const { pix: sp, stride: ss } = src
  const { pix: op, stride: os } = out
  const { coeffs, filterLength } = w
  const idx = tapIndex(w, src.width - 1)
  for (let x = 0; x < src.height; x++) {
    const rowBase = x * ss
    for (let y = 0; y < out.height; y++) {
      let gray = 0,
        sum = 0
      const ci = y * filterLength
      for (let i = ci; i < ci + filterLength; i++) {
        const coeff = coeffs[i]!
        if (coeff === 0) continue
        const p = rowBase + idx[i]! * 2
        gray += coeff * ((sp[p]! << 8) | sp[p + 1]!)
        sum += coeff
      }
      put16(op, y * os + x * 2, clampUint16(Math.trunc(gray / sum)))
    }
  }
}

/**
 * `resize.Resize(width, height, img, resize.Bilinear)`. Returns `img` itself
 * when it already has the requested size, as nfnt does.
 */
export function resizeBilinear(img: DecodedImage, width: number, height: number): DecodedImage {
  if (img.width === width && img.height === height) return img
  const scaleX = img.width / width
  const scaleY = img.height / height

  let tempKind: GoImageKind
  let first: (src: DecodedImage, out: DecodedImage, w: Weights) => void
  let second: (src: DecodedImage, out: DecodedImage, w: Weights) => void
  let precision: 8 | 16
  switch (img.kind) {
    case 'RGBA':
    case 'NRGBA': {
      const premultiply = img.kind === 'NRGBA'
      tempKind = 'RGBA'
      precision = 8
      first = (s, o, w) => pass8x4(s, o, w, premultiply)
      second = (s, o, w) => pass8x4(s, o, w, false)
      break
    }
    case 'Gray':
      tempKind = 'Gray'
      precision = 8
      first = second = passGray8
      break
    case 'Gray16':
      tempKind = 'Gray16'
      precision = 16
      first = second = passGray16
      break
    case 'RGBA64':
    case 'NRGBA64':
    case 'Paletted': {
      const mode = img.kind === 'RGBA64' ? 'rgba64' : img.kind === 'NRGBA64' ? 'nrgba64' : 'palette'
      tempKind = 'RGBA64'
      precision = 16
      first = (s, o, w) => pass16x4(s, o, w, mode)
      second = (s, o, w) => pass16x4(s, o, w, 'rgba64')
      break
    }
    default:
      throw new Error(`resize: unsupported image kind ${String(img.kind)}`)
  }

  // Temporary image is the transpose: as wide as the source is tall.
  const temp = newImage(tempKind, img.height, width)
  first(img, temp, createWeights(width, scaleX, precision))
  const result = newImage(tempKind, width, height)
  second(temp, result, createWeights(height, scaleY, precision))
  return result
}
