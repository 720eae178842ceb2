// Hand-made PNG files for tests of header checks: any IHDR, with correct CRCs, and a tiny body.
import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** One chunk: length, type, data, CRC over type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

export interface IhdrFields {
  width: number
  height: number
  bitDepth?: number
  colourType?: number
  interlace?: number
}

/** The 13 bytes of an IHDR chunk's data. */
export function ihdrData(h: IhdrFields): Buffer {
  const d = Buffer.alloc(13)
  d.writeUInt32BE(h.width, 0)
  d.writeUInt32BE(h.height, 4)
  d[8] = h.bitDepth ?? 8
  d[9] = h.colourType ?? 2
  d[12] = h.interlace ?? 0
  return d
}

/**
 * A PNG whose header says `h` and whose IDAT holds only `body` deflated (a few bytes: nowhere near the
 * pixels the header promises). With 16383 × 16383 RGBA at 16 bits it is a "PNG bomb": a decoder that
 * trusts the header sizes 2 GiB of pixels for it.
 */
export function pngWithHeader(h: IhdrFields, body: Uint8Array = new Uint8Array(64)): Buffer {
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdrData(h)), pngChunk('IDAT', deflateSync(body)), pngChunk('IEND', new Uint8Array())])
}

/** A PNG as the image runner writes it (sharp from raw RGB, its fixed encoder settings): a gradient keyed by `seed`. */
export function runnerPng(width: number, height: number, seed = 0): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3)
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * (seed + 1) + ((i / (width * 3)) | 0) * 7) & 0xff
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false, progressive: false })
    .toBuffer()
}
