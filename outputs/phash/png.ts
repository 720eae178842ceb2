// PNG decoder that reproduces Go's `image/png.Decode`: the same accepted and
// rejected files, the same concrete image type and the same sample values.
//
// Why not sharp/libpng for the pixels: measured on this corpus and on
// hand-made broken files, libpng (inside sharp 0.35) disagrees with Go on
// what a valid PNG is and on some pixel values. It accepts files Go rejects
// (extra decompressed data, missing IEND, bad CRC on an ancillary chunk,
// non-empty IEND), rejects files Go accepts (unknown critical chunks, a stray
// IDAT after other chunks), drops a tRNS longer than PLTE that Go applies,
// and converts pixels through an embedded ICC profile unless told not to.
// Detecting "too much pixel data" needs the inflated stream anyway, and once
// it is inflated, undoing the five PNG filters is a few lines; so inflation is
// done by node:zlib (a maintained C implementation) and everything after it
// follows Go's reader step by step.

import { crc32, inflateRaw, inflateRawSync, constants as zc } from 'node:zlib'
import { promisify } from 'node:util'
import { type DecodedImage, type GoImageKind, newImage } from './image.ts'

const inflateRawAsync = promisify(inflateRaw)

/** Thrown for anything `png.Decode` would reject (and for inputs over our size limits). */
export class PngError extends Error {
  constructor(message: string) {
    super(`png: ${message}`)
    this.name = 'PngError'
  }
}

/**
 * Go has no pixel limit, but needs the memory; we cap both sides so a hostile
 * header cannot exhaust memory, and so every resize accumulator stays below
 * 2^53 (where float64 stops being exact integer arithmetic).
 */
export const MAX_DIMENSION = 1 << 24
export const MAX_PIXELS = 0x3fff * 0x3fff

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

// Go's decoder stages: the order in which critical chunks may appear.
const enum Stage {
  Start,
  SeenIHDR,
  SeenPLTE,
  SeentRNS,
  SeenIDAT,
  SeenIEND,
}

interface Header {
  width: number
  height: number
  depth: number
  colorType: number
  interlaced: boolean
}

interface Chunk {
  type: string
  start: number // offset of the data
  length: number
}

/** What a valid file's chunks tell us before any pixel is decoded. */
export interface PngInfo extends Header {
  /** PLTE entries as R,G,B triples (paletted images), before any tRNS extension. */
  plte?: Uint8Array
  /** Raw tRNS payload. */
  trns?: Uint8Array
  /** The Go image type png.Decode returns for this file. */
  goKind: GoImageKind
  /** The run of consecutive IDAT chunks that holds the zlib stream. */
  idat: { start: number; length: number }[]
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
}

function isPaletted(h: Header): boolean {
  return h.colorType === 3
}

function goKindOf(h: Header, hasColourKey: boolean): GoImageKind {
  switch (h.colorType) {
    case 0:
      return h.depth === 16 ? (hasColourKey ? 'NRGBA64' : 'Gray16') : hasColourKey ? 'NRGBA' : 'Gray'
    case 2:
      return h.depth === 16 ? (hasColourKey ? 'NRGBA64' : 'RGBA64') : hasColourKey ? 'NRGBA' : 'RGBA'
    case 3:
      return 'Paletted'
    case 4:
    case 6:
      return h.depth === 16 ? 'NRGBA64' : 'NRGBA'
  }
  throw new PngError('unreachable colour type')
}

// Bit depths Go accepts per colour type (same as the PNG spec).
function validCombination(depth: number, ct: number): boolean {
  switch (depth) {
    case 1:
    case 2:
    case 4:
      return ct === 0 || ct === 3
    case 8:
      return ct === 0 || ct === 2 || ct === 3 || ct === 4 || ct === 6
    case 16:
      return ct === 0 || ct === 2 || ct === 4 || ct === 6
  }
  return false
}

/**
 * Walks the chunk list with Go's rules: signature, CRC on every chunk up to
 * IEND, critical-chunk order, IHDR/PLTE/tRNS/IEND validity. Bytes after IEND
 * are ignored, as are unknown chunks of any kind (Go does not look at the
 * critical bit).
 */
export function parsePngChunks(bytes: Uint8Array): PngInfo {
  if (!(bytes instanceof Uint8Array)) throw new PngError('input must be a Uint8Array')
  if (bytes.length < 8) throw new PngError('unexpected EOF (shorter than the signature)')
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw new PngError('not a PNG file')

  let stage = Stage.Start
  let header: Header | undefined
  let plte: Uint8Array | undefined
  let trns: Uint8Array | undefined
  let idat: { start: number; length: number }[] | undefined
  let pos = 8
  let previousWasIdatRun = false

  while (stage !== Stage.SeenIEND) {
    if (pos + 8 > bytes.length) throw new PngError('unexpected EOF')
    const length = readU32(bytes, pos)
    const type = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!, bytes[pos + 6]!, bytes[pos + 7]!)
    const c: Chunk = { type, start: pos + 8, length }
    const next = c.start + length + 4
    const checkCrc = (): void => {
      if (next > bytes.length) throw new PngError('unexpected EOF')
      const want = readU32(bytes, c.start + length)
      if (crc32(bytes.subarray(pos + 4, c.start + length)) >>> 0 !== want) {
        throw new PngError('invalid checksum')
      }
    }
    let inIdatRun = false
    switch (type) {
      case 'IHDR': {
        if (stage !== Stage.Start) throw new PngError('chunk out of order')
        stage = Stage.SeenIHDR
        if (length !== 13) throw new PngError('bad IHDR length')
        checkCrc()
        const d = c.start
        if (bytes[d + 10] !== 0) throw new PngError('unsupported feature: compression method')
        if (bytes[d + 11] !== 0) throw new PngError('unsupported feature: filter method')
        if (bytes[d + 12] !== 0 && bytes[d + 12] !== 1) throw new PngError('invalid interlace method')
        // Go reads the dimensions as int32, so the top bit makes them negative.
        const w = readU32(bytes, d) | 0
        const h = readU32(bytes, d + 4) | 0
        if (w <= 0 || h <= 0) throw new PngError('non-positive dimension')
        const depth = bytes[d + 8]!,
          colorType = bytes[d + 9]!
        if (!validCombination(depth, colorType)) {
          throw new PngError(`unsupported feature: bit depth ${depth}, color type ${colorType}`)
        }
        if (w > MAX_DIMENSION || h > MAX_DIMENSION || w * h > MAX_PIXELS) {
          throw new PngError(`image ${w}x${h} is larger than this decoder accepts`)
        }
        header = { width: w, height: h, depth, colorType, interlaced: bytes[d + 12] === 1 }
        break
      }
      case 'PLTE': {
        if (stage !== Stage.SeenIHDR) throw new PngError('chunk out of order')
        stage = Stage.SeenPLTE
        const np = Math.floor(length / 3)
        if (length % 3 !== 0 || np <= 0 || np > 256 || np > 2 ** header!.depth) {
          throw new PngError('bad PLTE length')
        }
        checkCrc()
        if (header!.colorType === 3) plte = bytes.slice(c.start, c.start + 3 * np)
        else if (header!.colorType !== 2 && header!.colorType !== 6) throw new PngError('PLTE, color type mismatch')
        // A suggested palette in a truecolour file is legal and ignored.
        break
      }
      case 'tRNS': {
        const h = header
        if (h !== undefined && isPaletted(h)) {
          if (stage !== Stage.SeenPLTE) throw new PngError('chunk out of order')
        } else if (h !== undefined && h.colorType === 2) {
          if (stage !== Stage.SeenIHDR && stage !== Stage.SeenPLTE) throw new PngError('chunk out of order')
        } else if (stage !== Stage.SeenIHDR) {
          throw new PngError('chunk out of order')
        }
        stage = Stage.SeentRNS
        const ct = h!.colorType
        if (ct === 0) {
          if (length !== 2) throw new PngError('bad tRNS length')
        } else if (ct === 2) {
          if (length !== 6) throw new PngError('bad tRNS length')
        } else if (ct === 3) {
          if (length > 256) throw new PngError('bad tRNS length')
        } else {
          throw new PngError('tRNS, color type mismatch')
        }
        checkCrc()
        trns = bytes.slice(c.start, c.start + length)
        break
      }
      case 'IDAT': {
        if (stage < Stage.SeenIHDR || stage > Stage.SeenIDAT || (stage === Stage.SeenIHDR && isPaletted(header!))) {
          throw new PngError('chunk out of order')
        }
        checkCrc()
        if (stage !== Stage.SeenIDAT) {
          stage = Stage.SeenIDAT
          idat = [{ start: c.start, length }]
          inIdatRun = true
        } else if (previousWasIdatRun) {
          // Consecutive IDATs continue the stream; whether Go's reader gets
          // that far is settled later, once we know where the stream ends.
          idat!.push({ start: c.start, length })
          inIdatRun = true
        }
        // An IDAT after some other chunk is skipped by Go.
        break
      }
      case 'IEND': {
        if (stage !== Stage.SeenIDAT) throw new PngError('chunk out of order')
        stage = Stage.SeenIEND
        if (length !== 0) throw new PngError('bad IEND length')
        checkCrc()
        break
      }
      default:
        if (length > 0x7fffffff) throw new PngError(`bad chunk length: ${length}`)
        checkCrc()
    }
    previousWasIdatRun = inIdatRun
    pos = next
  }

  const h = header!
  const hasColourKey = trns !== undefined && (h.colorType === 0 || h.colorType === 2)
  return { ...h, plte, trns, goKind: goKindOf(h, hasColourKey), idat: idat! }
}

// ------------------------------------------------------------------ inflate

const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
]

interface Pass {
  xOff: number
  yOff: number
  xStep: number
  yStep: number
  w: number
  h: number
  rowBytes: number
}

function passesOf(info: PngInfo): Pass[] {
  const bitsPerPixel = info.depth * [1, 0, 3, 1, 2, 0, 4][info.colorType]!
  const grid = info.interlaced ? ADAM7 : [[0, 0, 1, 1] as const]
  const out: Pass[] = []
  for (const [xOff, yOff, xStep, yStep] of grid) {
    const w = Math.floor((info.width - xOff + xStep - 1) / xStep)
    const h = Math.floor((info.height - yOff + yStep - 1) / yStep)
    // Go skips empty passes entirely, without reading a filter byte.
    if (w === 0 || h === 0) continue
    out.push({ xOff, yOff, xStep, yStep, w, h, rowBytes: Math.ceil((bitsPerPixel * w) / 8) })
  }
  return out
}

function adler32(data: Uint8Array): number {
  let a = 1,
    b = 0
  const n = data.length
  let i = 0
  while (i < n) {
    // 3800 steps keep b below 2^53 comfortably before reducing.
    const end = Math.min(i + 3800, n)
    for (; i < end; i++) {
      a += data[i]!
      b += a
    }
    a %= 65521
    b %= 65521
  }
  return ((b << 16) | a) >>> 0
}

/**
 * Concatenates the IDAT run and splits off the 2-byte zlib header Go checks
 * itself. Go's flate ignores the window size in CINFO (it always keeps 32 KiB),
 * so we inflate the raw deflate data with a 32 KiB window too.
 */
function zlibPayload(bytes: Uint8Array, info: PngInfo): { stream: Uint8Array; headerLen: number } {
  let total = 0
  for (const c of info.idat) total += c.length
  const stream = new Uint8Array(total)
  let o = 0
  for (const c of info.idat) {
    stream.set(bytes.subarray(c.start, c.start + c.length), o)
    o += c.length
  }
  if (total < 2) throw new PngError('not enough pixel data')
  const cmf = stream[0]!,
    flg = stream[1]!
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) throw new PngError('zlib: invalid header')
  let headerLen = 2
  if (flg & 0x20) {
    // A preset dictionary: Go passes none, so only the id of the empty
    // dictionary (its Adler-32, 1) is accepted.
    if (total < 6) throw new PngError('not enough pixel data')
    if (readU32(stream, 2) !== 1) throw new PngError('zlib: invalid dictionary')
    headerLen = 6
  }
  return { stream, headerLen }
}

/**
 * Checks the end of the zlib stream the way Go's reader experiences it:
 * Adler-32, then whether the current IDAT chunk still holds unread bytes.
 * Go reads the IDAT data through a 4096-byte bufio.Reader whose every fill
 * stops at the chunk boundary, so trailing junk after the zlib stream is
 * accepted exactly when the last fill swallowed the rest of its chunk.
 */
function checkStreamEnd(info: PngInfo, stream: Uint8Array, headerLen: number, deflateLen: number, raw: Uint8Array): void {
  const end = headerLen + deflateLen + 4 // bytes Go consumes
  if (end > stream.length) throw new PngError('not enough pixel data')
  if (readU32(stream, headerLen + deflateLen) !== adler32(raw)) throw new PngError('zlib: invalid checksum')
  let chunkStart = 0
  for (const c of info.idat) {
    if (end - 1 < chunkStart + c.length) {
      const offset = end - 1 - chunkStart
      const fillStart = offset - (offset % 4096)
      if (c.length - fillStart > 4096) throw new PngError('too much pixel data')
      return
    }
    chunkStart += c.length
  }
}

function inflatedSize(passes: Pass[]): number {
  let n = 0
  for (const p of passes) n += p.h * (1 + p.rowBytes)
  return n
}

interface Inflated {
  data: Uint8Array
  consumed: number
}

// One byte of headroom so that any surplus output is seen (and rejected); it
// also caps the memory a decompression bomb can claim. Z_SYNC_FLUSH makes a
// stream that never reaches its end return what it has instead of throwing,
// so that case is judged by the same length checks as every other.
function inflateOptions(expected: number) {
  return { maxOutputLength: expected + 1, info: true as const, finishFlush: zc.Z_SYNC_FLUSH }
}

function inflateFailure(e: unknown): PngError {
  if (e instanceof RangeError) return new PngError('too much pixel data')
  return new PngError(`zlib: ${(e as Error).message}`)
}

function inflated(res: unknown): Inflated {
  const r = res as { buffer: Buffer; engine: { bytesWritten: number } }
  return { data: r.buffer, consumed: r.engine.bytesWritten }
}

// ------------------------------------------------------------------ unfilter

function unfilterRow(ft: number, cur: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = cur.length
  const lead = Math.min(bpp, n) // bytes with no left neighbour
  switch (ft) {
    case 0:
      return
    case 1:
      for (let i = bpp; i < n; i++) cur[i] = (cur[i]! + cur[i - bpp]!) & 0xff
      return
    case 2:
      for (let i = 0; i < n; i++) cur[i] = (cur[i]! + prev[i]!) & 0xff
      return
    case 3:
      for (let i = 0; i < lead; i++) cur[i] = (cur[i]! + (prev[i]! >> 1)) & 0xff
      for (let i = bpp; i < n; i++) cur[i] = (cur[i]! + ((cur[i - bpp]! + prev[i]!) >> 1)) & 0xff
      return
    case 4:
      // Paeth with a = c = 0 reduces to "up".
      for (let i = 0; i < lead; i++) cur[i] = (cur[i]! + prev[i]!) & 0xff
      for (let i = bpp; i < n; i++) {
        const a = cur[i - bpp]!,
          b = prev[i]!,
          c = prev[i - bpp]!
        let pa = b - c,
          pb = a - c,
          pc = pa + pb
        if (pa < 0) pa = -pa
        if (pb < 0) pb = -pb
        if (pc < 0) pc = -pc
        cur[i] = (cur[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff
      }
      return
  }
  throw new PngError('bad filter type')
}

// ------------------------------------------------------------------ samples → Go image

function buildPalette(info: PngInfo, maxIndex: number): Uint8Array {
  const np = info.plte!.length / 3
  const nt = info.trns?.length ?? 0
  // Go's len(Palette): PLTE, stretched by a longer tRNS, then by any larger index.
  const len = Math.max(np, nt, maxIndex + 1)
  const pal = new Uint8Array(len * 4)
  for (let i = 0; i < len; i++) {
    if (i < np) {
      pal[i * 4] = info.plte![i * 3]!
      pal[i * 4 + 1] = info.plte![i * 3 + 1]!
      pal[i * 4 + 2] = info.plte![i * 3 + 2]!
    }
    pal[i * 4 + 3] = i < nt ? info.trns![i]! : 0xff
  }
  return pal
}

/**
 * Writes one unfiltered scanline (`p.w` pixels of a pass) into the image at
 * row offset `rowBase`, pixel positions xOff, xOff+xStep, ...
 */
type RowWriter = (cur: Uint8Array, rowBase: number, xOff: number, xStep: number, w: number) => void

/**
 * Picks the scanline converter for a colour type / depth / colour key,
 * following the per-type branches of Go's readImagePass.
 */
function rowWriter(info: PngInfo, pix: Uint8Array, onIndex: (maxIndexInRow: number) => void): RowWriter {
  const { depth, colorType: ct, trns } = info
  const colourKey = trns !== undefined && (ct === 0 || ct === 2)
  // Grey samples below 8 bits are widened by replication (1→0xff, 2→0x55, 4→0x11).
  const scale = depth === 1 ? 0xff : depth === 2 ? 0x55 : depth === 4 ? 0x11 : 1
  // For depths up to 8 Go compares only the low byte of each tRNS sample,
  // scaled like a pixel value with uint8 wrap-around.
  const k0 = colourKey ? (trns[1]! * scale) & 0xff : -1
  const k1 = colourKey && ct === 2 ? trns[3]! : -1
  const k2 = colourKey && ct === 2 ? trns[5]! : -1
  const key16 =
    colourKey && depth === 16
      ? [(trns[0]! << 8) | trns[1]!, ct === 2 ? (trns[2]! << 8) | trns[3]! : -1, ct === 2 ? (trns[4]! << 8) | trns[5]! : -1]
      : [-1, -1, -1]

  if (depth < 8) {
    const mask = (1 << depth) - 1
    return (cur, rowBase, xOff, xStep, w) => {
      let max = -1
      for (let px = 0; px < w; px++) {
        const bit = px * depth
        const v = (cur[bit >> 3]! >> (8 - depth - (bit & 7))) & mask
        const x = xOff + px * xStep
        if (ct === 3) {
          pix[rowBase + x] = v
          if (v > max) max = v
        } else if (colourKey) {
          const g = v * scale
          const o = rowBase + x * 4
          pix[o] = pix[o + 1] = pix[o + 2] = g
          pix[o + 3] = g === k0 ? 0 : 0xff
        } else {
          pix[rowBase + x] = v * scale
        }
      }
      if (ct === 3) onIndex(max)
    }
  }
  switch (ct * 100 + depth + (colourKey ? 1000 : 0)) {
    case 8: // Gray
    case 308: // Paletted
      return (cur, rowBase, xOff, xStep, w) => {
        if (xStep === 1) pix.set(cur.subarray(0, w), rowBase + xOff)
        else for (let px = 0; px < w; px++) pix[rowBase + xOff + px * xStep] = cur[px]!
        if (ct === 3) {
          let max = -1
          for (let px = 0; px < w; px++) if (cur[px]! > max) max = cur[px]!
          onIndex(max)
        }
      }
    case 16: // Gray16
      return (cur, rowBase, xOff, xStep, w) => {
        if (xStep === 1) pix.set(cur.subarray(0, 2 * w), rowBase + 2 * xOff)
        else
          for (let px = 0; px < w; px++) {
            const o = rowBase + 2 * (xOff + px * xStep)
            pix[o] = cur[2 * px]!
            pix[o + 1] = cur[2 * px + 1]!
          }
      }
    case 1008: // Gray + colour key → NRGBA
      return (cur, rowBase, xOff, xStep, w) => {
        for (let px = 0; px < w; px++) {
          const g = cur[px]!
          const o = rowBase + 4 * (xOff + px * xStep)
          pix[o] = pix[o + 1] = pix[o + 2] = g
          pix[o + 3] = g === k0 ? 0 : 0xff
        }
      }
    case 1016: // Gray16 + colour key → NRGBA64
      return (cur, rowBase, xOff, xStep, w) => {
        for (let px = 0; px < w; px++) {
          const hi = cur[2 * px]!,
            lo = cur[2 * px + 1]!
          const o = rowBase + 8 * (xOff + px * xStep)
          pix[o] = pix[o + 2] = pix[o + 4] = hi
          pix[o + 1] = pix[o + 3] = pix[o + 5] = lo
          pix[o + 6] = pix[o + 7] = ((hi << 8) | lo) === key16[0] ? 0 : 0xff
        }
      }
    case 208: // RGB → RGBA (opaque)
    case 1208: // RGB + colour key → NRGBA
      return (cur, rowBase, xOff, xStep, w) => {
        for (let px = 0, s = 0; px < w; px++, s += 3) {
          const r = cur[s]!,
            g = cur[s + 1]!,
            b = cur[s + 2]!
          const o = rowBase + 4 * (xOff + px * xStep)
          pix[o] = r
          pix[o + 1] = g
          pix[o + 2] = b
          pix[o + 3] = r === k0 && g === k1 && b === k2 ? 0 : 0xff
        }
      }
    case 216: // RGB16 → RGBA64 (opaque)
    case 1216: // RGB16 + colour key → NRGBA64
      return (cur, rowBase, xOff, xStep, w) => {
        for (let px = 0, s = 0; px < w; px++, s += 6) {
          const o = rowBase + 8 * (xOff + px * xStep)
          for (let k = 0; k < 6; k++) pix[o + k] = cur[s + k]!
          const transparent =
            colourKey &&
            ((cur[s]! << 8) | cur[s + 1]!) === key16[0] &&
            ((cur[s + 2]! << 8) | cur[s + 3]!) === key16[1] &&
            ((cur[s + 4]! << 8) | cur[s + 5]!) === key16[2]
          pix[o + 6] = pix[o + 7] = transparent ? 0 : 0xff
        }
      }
    case 408: // Grey + alpha → NRGBA
      return (cur, rowBase, xOff, xStep, w) => {
        for (let px = 0; px < w; px++) {
          const o = rowBase + 4 * (xOff + px * xStep)
          pix[o] = pix[o + 1] = pix[o + 2] = cur[2 * px]!
          pix[o + 3] = cur[2 * px + 1]!
        }
      }
    case 416: // Grey16 + alpha → NRGBA64
      return (cur, rowBase, xOff, xStep, w) => {
        for (let px = 0; px < w; px++) {
          const o = rowBase + 8 * (xOff + px * xStep)
          pix[o] = pix[o + 2] = pix[o + 4] = cur[4 * px]!
          pix[o + 1] = pix[o + 3] = pix[o + 5] = cur[4 * px + 1]!
          pix[o + 6] = cur[4 * px + 2]!
          pix[o + 7] = cur[4 * px + 3]!
        }
      }
    case 608: // RGBA → NRGBA, byte for byte
    case 616: {
      // RGBA16 → NRGBA64
      const n = depth === 8 ? 4 : 8
      return (cur, rowBase, xOff, xStep, w) => {
        if (xStep === 1) pix.set(cur.subarray(0, n * w), rowBase + n * xOff)
        else for (let px = 0; px < w; px++) pix.set(cur.subarray(n * px, n * px + n), rowBase + n * (xOff + px * xStep))
      }
    }
  }
  throw new PngError('unreachable colour type')
}

function decodePixels(info: PngInfo, data: Uint8Array): DecodedImage {
  const img = newImage(info.goKind, info.width, info.height)
  const channels = [1, 0, 3, 1, 2, 0, 4][info.colorType]!
  const bpp = Math.max(1, (channels * info.depth) >> 3)
  let maxIndex = -1
  const write = rowWriter(info, img.pix, (m) => {
    if (m > maxIndex) maxIndex = m
  })

  let pos = 0
  for (const p of passesOf(info)) {
    let prev: Uint8Array = new Uint8Array(p.rowBytes)
    for (let py = 0; py < p.h; py++) {
      const ft = data[pos]!
      const cur = data.subarray(pos + 1, pos + 1 + p.rowBytes)
      pos += 1 + p.rowBytes
      unfilterRow(ft, cur, prev, bpp)
      prev = cur
      write(cur, (p.yOff + py * p.yStep) * img.stride, p.xOff, p.xStep, p.w)
    }
  }
  if (info.colorType === 3) img.palette = buildPalette(info, maxIndex)
  return img
}

interface Prepared {
  info: PngInfo
  expected: number
  stream: Uint8Array
  headerLen: number
}

function prepare(bytes: Uint8Array): Prepared {
  const info = parsePngChunks(bytes)
  const expected = inflatedSize(passesOf(info))
  const { stream, headerLen } = zlibPayload(bytes, info)
  return { info, expected, stream, headerLen }
}

function finish(p: Prepared, inf: Inflated): DecodedImage {
  if (inf.data.length < p.expected) throw new PngError('not enough pixel data')
  if (inf.data.length > p.expected) throw new PngError('too much pixel data')
  checkStreamEnd(p.info, p.stream, p.headerLen, inf.consumed, inf.data)
  return decodePixels(p.info, inf.data)
}

/**
 * Decodes a PNG into the image Go's `png.Decode` would return. Inflation runs
 * on libuv's thread pool. Rejects with a `PngError` for any input Go rejects.
 */
export async function decodePng(bytes: Uint8Array): Promise<DecodedImage> {
  const p = prepare(bytes)
  let inf: Inflated
  try {
    inf = inflated(await inflateRawAsync(p.stream.subarray(p.headerLen), inflateOptions(p.expected)))
  } catch (e) {
    throw inflateFailure(e)
  }
  return finish(p, inf)
}

/** Synchronous variant of {@link decodePng}. */
export function decodePngSync(bytes: Uint8Array): DecodedImage {
  const p = prepare(bytes)
  let inf: Inflated
  try {
    inf = inflated(inflateRawSync(p.stream.subarray(p.headerLen), inflateOptions(p.expected)))
  } catch (e) {
    throw inflateFailure(e)
  }
  return finish(p, inf)
}
