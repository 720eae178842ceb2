// In-memory images shaped exactly like the Go `image` types that
// `image/png.Decode` returns. The hash pipeline (nfnt/resize, then
// goimagehash's grey conversion) picks a different integer code path for each
// concrete Go type, so the type is part of the data, not a detail.

/** The concrete Go image types a PNG can decode to, plus the ones resize produces. */
export type GoImageKind = 'Gray' | 'Gray16' | 'RGBA' | 'RGBA64' | 'NRGBA' | 'NRGBA64' | 'Paletted'

/**
 * Pixels as Go's `image/png` presents them.
 *
 * `pix` uses Go's own `Pix` layout, rows top to bottom, `stride` bytes apart:
 * - Gray: 1 byte per pixel; Gray16: 2 bytes, big-endian.
 * - RGBA: R,G,B,A bytes, alpha-premultiplied (PNG truecolour without alpha, so A = 255).
 * - RGBA64: 4 big-endian 16-bit samples, premultiplied (PNG 16-bit truecolour, A = 0xffff).
 * - NRGBA / NRGBA64: same but straight (not premultiplied) alpha.
 * - Paletted: 1 byte per pixel, an index into `palette`.
 *
 * `palette` (Paletted only) holds 4 bytes per entry, straight R,G,B,A, and has
 * exactly Go's `len(Palette)`: Go grows the PLTE palette with opaque black
 * entries when tRNS is longer or pixels use indices beyond it.
 */
export interface DecodedImage {
  kind: GoImageKind
  width: number
  height: number
  stride: number
  pix: Uint8Array
  palette?: Uint8Array
}

export const BYTES_PER_PIXEL: Record<GoImageKind, number> = {
  Gray: 1,
  Gray16: 2,
  RGBA: 4,
  RGBA64: 8,
  NRGBA: 4,
  NRGBA64: 8,
  Paletted: 1,
}

export function newImage(kind: GoImageKind, width: number, height: number): DecodedImage {
  const stride = width * BYTES_PER_PIXEL[kind]
  return { kind, width, height, stride, pix: new Uint8Array(stride * height) }
}

/** Throws unless `img` is internally consistent, so later code can index without checks. */
export function assertImage(img: DecodedImage): void {
  const bpp = BYTES_PER_PIXEL[img.kind]
  if (bpp === undefined) throw new Error(`phash: unknown image kind ${String(img.kind)}`)
  const { width: w, height: h, stride } = img
  if (!Number.isSafeInteger(w) || !Number.isSafeInteger(h) || w <= 0 || h <= 0) {
    throw new Error(`phash: bad image size ${w}x${h}`)
  }
  if (!Number.isSafeInteger(stride) || stride < w * bpp) throw new Error('phash: bad stride')
  if (!(img.pix instanceof Uint8Array) || img.pix.length < stride * (h - 1) + w * bpp) {
    throw new Error('phash: pixel buffer too short')
  }
  if (img.kind === 'Paletted') {
    const pal = img.palette
    if (!(pal instanceof Uint8Array) || pal.length === 0 || pal.length % 4 !== 0) {
      throw new Error('phash: Paletted image needs a non-empty RGBA palette')
    }
    const n = pal.length / 4
    for (let y = 0; y < h; y++) {
      const row = y * stride
      for (let x = 0; x < w; x++) {
        // Go would panic indexing past len(Palette); png.Decode never produces that.
        if (img.pix[row + x]! >= n) throw new Error('phash: palette index out of range')
      }
    }
  }
}

/**
 * Premultiplied 16-bit RGBA of every palette entry, as Go's `color.NRGBA.RGBA()`
 * computes it (an opaque `color.RGBA` entry gives the same numbers).
 */
export function premultipliedPalette(palette: Uint8Array): Uint32Array {
  const n = palette.length / 4
  const out = new Uint32Array(n * 4)
  for (let i = 0; i < n; i++) {
    const a = palette[i * 4 + 3]!
    for (let c = 0; c < 3; c++) {
      // (v·0x101)·A/0xff with the 8-bit alpha, truncating: Go's uint32 arithmetic.
      out[i * 4 + c] = Math.floor((palette[i * 4 + c]! * 0x101 * a) / 0xff)
    }
    out[i * 4 + 3] = a * 0x101
  }
  return out
}
