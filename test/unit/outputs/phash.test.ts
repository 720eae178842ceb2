import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'
import { DCT_TABLES } from '../../../outputs/phash/dct.ts'
import { BYTES_PER_PIXEL } from '../../../outputs/phash/image.ts'
import {
  type DecodedImage,
  PngError,
  compareImageScores,
  decodePng,
  decodePngSync,
  goimagehashMedian,
  hammingDistance,
  perceptionHash,
  phashHex,
  phashPng,
  phashPngSync,
  resizeBilinear,
} from '../../../outputs/phash/phash.ts'

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vectors', 'phash')

interface Vector {
  hash?: string
  error?: string
  width: number
  height: number
  colorType: number
  bitDepth: number
  interlaced: boolean
  goType?: string
  decodedSha256?: string
  resizedType?: string
  resizedSha256?: string
}

function loadVectors(file: string): [string, Vector][] {
  const json = JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as { vectors: Record<string, Vector> }
  return Object.entries(json.vectors).sort(([a], [b]) => (a < b ? -1 : 1))
}

/** Same digest as the Go program's pixelDigest. */
function pixelDigest(img: DecodedImage): string {
  const h = createHash('sha256')
  const rowBytes = img.width * BYTES_PER_PIXEL[img.kind]
  for (let y = 0; y < img.height; y++) h.update(img.pix.subarray(y * img.stride, y * img.stride + rowBytes))
  if (img.palette) h.update(img.palette)
  return h.digest('hex')
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'))
}

/** Minimal PNG writer for hand-made inputs: one IDAT, filter type 0. */
function pngOf(width: number, height: number, depth: number, colorType: number, rows: Uint8Array[]): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const b = Buffer.alloc(12 + data.length)
    b.writeUInt32BE(data.length, 0)
    b.write(type, 4, 'latin1')
    b.set(data, 8)
    const crc = createCrc(b.subarray(4, 8 + data.length))
    b.writeUInt32BE(crc, 8 + data.length)
    return b
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = depth
  ihdr[9] = colorType
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.of(0), r])))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ])
}

function createCrc(b: Uint8Array): number {
  let c = ~0
  for (const v of b) {
    c ^= v
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1))
  }
  return ~c >>> 0
}

describe('phash (goimagehash v1.1.0 PerceptionHash port)', function () {
  this.timeout(60_000)

  describe('Go reference vectors', () => {
    const vectors = loadVectors('vectors.json')

    it('matches goimagehash on every PNG in test/vectors/phash/images', async () => {
      assert.ok(vectors.length >= 200, `expected at least 200 vectors, found ${vectors.length}`)
      const mismatches: string[] = []
      for (const [name, v] of vectors) {
        assert.ok(v.hash, `${name}: Go could not hash it (${v.error}); the corpus should only hold valid images`)
        let got: string
        try {
          got = phashHex(await phashPng(readFileSync(join(VECTORS, 'images', name))))
        } catch (e) {
          got = `error: ${(e as Error).message}`
        }
        if (got !== v.hash) mismatches.push(`${name} (${v.goType}, ${v.width}x${v.height}): expected ${v.hash}, got ${got}`)
      }
      assert.deepEqual(mismatches, [], `${mismatches.length} of ${vectors.length} vectors differ:\n${mismatches.join('\n')}`)
    })

    it('decodes to the same Go image type and pixels, and resizes to the same 64x64 image', () => {
      const mismatches: string[] = []
      for (const [name, v] of vectors) {
        const img = decodePngSync(readFileSync(join(VECTORS, 'images', name)))
        if (`*image.${img.kind}` !== v.goType) mismatches.push(`${name}: type ${img.kind}, Go ${v.goType}`)
        else if (pixelDigest(img) !== v.decodedSha256) mismatches.push(`${name}: decoded pixels differ`)
        const resized = resizeBilinear(img, 64, 64)
        if (`*image.${resized.kind}` !== v.resizedType) mismatches.push(`${name}: resized type ${resized.kind}, Go ${v.resizedType}`)
        else if (pixelDigest(resized) !== v.resizedSha256) mismatches.push(`${name}: resized pixels differ`)
      }
      assert.deepEqual(mismatches, [], mismatches.join('\n'))
    })

    it('covers every image type png.Decode produces, both resize paths and interlacing', () => {
      const types = new Set(vectors.map(([, v]) => v.goType))
      for (const t of ['Gray', 'Gray16', 'RGBA', 'RGBA64', 'NRGBA', 'NRGBA64', 'Paletted']) {
        assert.ok(types.has(`*image.${t}`), `no vector decodes to *image.${t}`)
      }
      assert.ok(
        vectors.some(([, v]) => v.width === 64 && v.height === 64),
        'no 64x64 (no-resize) vector',
      )
      assert.ok(
        vectors.some(([, v]) => v.interlaced),
        'no interlaced vector',
      )
      assert.ok(
        vectors.some(([, v]) => v.width >= 1024 || v.height >= 1024),
        'no large vector',
      )
      assert.ok(
        vectors.some(([, v]) => v.width === 1 && v.height === 1),
        'no 1x1 vector',
      )
    })
  })

  describe('accepts and rejects exactly what png.Decode does', () => {
    const edge = loadVectors('edge.json')

    it('agrees with Go on every file in test/vectors/phash/edge', async () => {
      assert.ok(edge.length >= 40)
      const mismatches: string[] = []
      for (const [name, v] of edge) {
        const bytes = readFileSync(join(VECTORS, 'edge', name))
        let got: string
        try {
          got = phashHex(await phashPng(bytes))
        } catch (e) {
          if (!(e instanceof Error)) throw e
          got = 'error'
        }
        const want = v.hash ?? 'error'
        if (got !== want) mismatches.push(`${name}: Go ${v.hash ?? `rejects (${v.error})`}, TS ${got}`)
      }
      assert.deepEqual(mismatches, [], mismatches.join('\n'))
    })

    it('rejects garbage and truncated input with an Error, never a crash', async () => {
      const good = readFileSync(join(VECTORS, 'images', loadVectors('vectors.json')[0]![0]))
      const inputs: [string, Uint8Array][] = [
        ['empty', new Uint8Array(0)],
        ['garbage', Uint8Array.from({ length: 1000 }, (_, i) => (i * 97 + 13) & 0xff)],
        ['text', Buffer.from('definitely not a png')],
        ['signature only', good.subarray(0, 8)],
      ]
      for (const cut of [9, 20, 33, 40, good.length >> 1, good.length - 13, good.length - 1]) {
        inputs.push([`truncated at ${cut}`, good.subarray(0, cut)])
      }
      for (const [what, bytes] of inputs) {
        await assert.rejects(phashPng(bytes), (e: unknown) => e instanceof PngError, what)
        assert.throws(() => phashPngSync(bytes), PngError, what)
      }
      await assert.rejects(decodePng('not bytes' as unknown as Uint8Array), PngError)
    })

    it('rejects any single flipped byte after the signature (each breaks a CRC or a length)', async () => {
      // Every byte after the signature is covered by a chunk CRC or is a
      // length/CRC field itself, so Go rejects each of these.
      const good = readFileSync(join(VECTORS, 'edge', 'ok_palette_reference.png'))
      for (let i = 8; i < good.length; i++) {
        const bad = Uint8Array.from(good)
        bad[i]! ^= 0x10
        await assert.rejects(phashPng(bad), PngError, `byte ${i}`)
      }
    })
  })

  describe('hash properties', () => {
    it('hashes a hand-built image the same as the equivalent PNG', () => {
      const rows = Array.from({ length: 50 }, (_, y) => Uint8Array.from({ length: 70 }, (_, x) => (x * 3 + y * 5) & 0xff))
      const img: DecodedImage = { kind: 'Gray', width: 70, height: 50, stride: 70, pix: Buffer.concat(rows) }
      assert.equal(phashHex(perceptionHash(img)), phashHex(phashPngSync(pngOf(70, 50, 8, 0, rows))))
    })

    it('returns 8 bytes with the uint64 written big-endian', () => {
      // A vertical ramp: DCT energy sits in the first column of coefficients.
      const rows = Array.from({ length: 64 }, (_, y) => new Uint8Array(64).fill(y * 4))
      const hash = phashPngSync(pngOf(64, 64, 8, 0, rows))
      assert.equal(hash.length, 8)
      assert.match(phashHex(hash), /^[0-9a-f]{16}$/)
      // Bit 63 (coefficient 0, the DC term) is the most significant bit of byte 0.
      assert.equal(hash[0]! >> 7, 1)
    })

    it('rejects inconsistent DecodedImage values', () => {
      const ok: DecodedImage = { kind: 'Gray', width: 2, height: 2, stride: 2, pix: new Uint8Array(4) }
      assert.doesNotThrow(() => perceptionHash(ok))
      assert.throws(() => perceptionHash({ ...ok, pix: new Uint8Array(3) }), /too short/)
      assert.throws(() => perceptionHash({ ...ok, width: 0 }), /size/)
      assert.throws(() => perceptionHash({ ...ok, kind: 'Paletted' }), /palette/)
      assert.throws(() => perceptionHash({ ...ok, kind: 'Paletted', pix: Uint8Array.of(0, 1, 2, 0), palette: new Uint8Array(8) }), /index/)
      assert.throws(() => perceptionHash({ ...ok, kind: 'CMYK' as never }), /kind/)
    })

    it('uses the DCT divisors Go computes, not V8 Math.cos', () => {
      // Spot-check two entries where the two differ by one ulp.
      const bits = (x: number): string => {
        const v = new DataView(new ArrayBuffer(8))
        v.setFloat64(0, x)
        return v.getBigUint64(0).toString(16)
      }
      assert.equal(bits(DCT_TABLES.DCT64[0]!), '3ffffd886084cd0c')
      assert.equal(bits(DCT_TABLES.DCT8[3]!), '3fd8f8b83c69a60c')
      for (const [n, t] of [
        [64, DCT_TABLES.DCT64],
        [32, DCT_TABLES.DCT32],
        [16, DCT_TABLES.DCT16],
        [8, DCT_TABLES.DCT8],
        [4, DCT_TABLES.DCT4],
        [2, DCT_TABLES.DCT2],
      ] as const) {
        assert.equal(t.length, n / 2)
        t.forEach((v, i) => assert.ok(Math.abs(v - Math.cos(((i + 0.5) * Math.PI) / n) * 2) < 1e-15, `dct${n}[${i}]`))
      }
    })

    it('computes the median like goimagehash MedianOfPixels', () => {
      // goimagehash's own expectations (etcs/utils_test.go).
      assert.equal(goimagehashMedian([0, 0, 0, 0]), 0)
      assert.equal(goimagehashMedian([1]), 1)
      assert.equal(goimagehashMedian([1, 2, 3, 4]), 2.5)
      assert.equal(goimagehashMedian([5, 3, 1, 7, 9]), 5)
      assert.equal(goimagehashMedian([98.3, 33.4, 105.44, 1500.4, 22.5, 66.6]), 82.44999999999999)
      const input = [3, 1, 2]
      goimagehashMedian(input)
      assert.deepEqual(input, [3, 1, 2], 'works on a copy')
    })
  })

  describe('hammingDistance', () => {
    const zero = new Uint8Array(8)
    const ones = new Uint8Array(8).fill(0xff)

    it('is 0 for equal hashes and 64 for complements', () => {
      assert.equal(hammingDistance(zero, zero), 0)
      assert.equal(hammingDistance(ones, ones), 0)
      assert.equal(hammingDistance(zero, ones), 64)
      const h = hex('a55a0ff0123456fe')
      const notH = h.map((b) => ~b & 0xff)
      assert.equal(hammingDistance(h, notH), 64)
    })

    it('counts known distances', () => {
      assert.equal(hammingDistance(zero, hex('0000000000000001')), 1)
      assert.equal(hammingDistance(zero, hex('8000000000000000')), 1)
      assert.equal(hammingDistance(zero, hex('0f0f0f0f0f0f0f0f')), 32)
      assert.equal(hammingDistance(hex('ffff000000000000'), hex('00ffff0000000000')), 16)
      assert.equal(hammingDistance(hex('0123456789abcdef'), hex('fedcba9876543210')), 64)
      assert.equal(hammingDistance(hex('0123456789abcdef'), hex('0123456789abcdee')), 1)
      assert.equal(hammingDistance(zero, hex('7fffff0000000000')), 23)
    })

    it('throws unless both hashes are 8 bytes', () => {
      assert.throws(() => hammingDistance(zero, new Uint8Array(7)))
      assert.throws(() => hammingDistance(new Uint8Array(16), new Uint8Array(16)))
    })
  })

  describe('compareImageScores', () => {
    const a = hex('0000000000000000')
    const d23 = hex('7fffff0000000000') // 23 bits set
    const d24 = hex('ffffff0000000000') // 24 bits set
    const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts))

    it('uses a strict threshold: distance 23 matches, 24 does not (threshold 24)', () => {
      assert.equal(hammingDistance(a, d23), 23)
      assert.equal(hammingDistance(a, d24), 24)
      assert.equal(compareImageScores(a, d23, 24), true)
      assert.equal(compareImageScores(a, d24, 24), false)
      assert.equal(compareImageScores(a, a, 24), true)
      assert.equal(compareImageScores(a, a, 0), false, 'threshold 0 rejects even identical scores')
    })

    it('requires every image to match (no averaging)', () => {
      assert.equal(compareImageScores(cat(a, a, a), cat(a, d23, a), 24), true)
      assert.equal(compareImageScores(cat(a, a, a), cat(a, d23, d24), 24), false)
      assert.equal(compareImageScores(cat(a, a), cat(d24, a), 24), false)
    })

    it('rejects length mismatch, empty scores and lengths that are not a multiple of 8', () => {
      assert.equal(compareImageScores(cat(a, a), a, 24), false)
      assert.equal(compareImageScores(a, cat(a, a), 24), false)
      assert.equal(compareImageScores(new Uint8Array(0), new Uint8Array(0), 24), false)
      assert.equal(compareImageScores(new Uint8Array(12), new Uint8Array(12), 24), false)
      assert.equal(compareImageScores(new Uint8Array(7), new Uint8Array(7), 24), false)
    })
  })

  it('phashHex gives 16 lowercase hex digits', () => {
    assert.equal(phashHex(hex('0123456789ABCDEF')), '0123456789abcdef')
    assert.throws(() => phashHex(new Uint8Array(9)))
  })
})
