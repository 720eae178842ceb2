// What an upload must look like before any of it is decoded. Recomputing a score decodes every PNG,
// and a PNG's header alone decides how much memory its pixels take (16383 × 16383 RGBA at 16 bits is
// 2 GiB from a few hundred compressed bytes). So the gateway reads each file's signature and IHDR
// chunk by hand and refuses anything that is not what the task's runner writes, at the size the
// task's args ask for, before the decoder sees a byte.
import { crc32 } from 'node:zlib'
import { type Task, TaskType, validateImageArgs } from '../modules/task/index.ts'

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Signature (8) + IHDR length (4), type (4), data (13), CRC (4): every byte the check reads. */
export const PNG_HEADER_BYTES = 33

/**
 * The only PNG an image upload may be: what the image runner writes (sharp, raw RGB in, palette
 * off, no interlace): 8-bit truecolour without alpha, deflate, the standard filters, not interlaced.
 */
export const UPLOAD_PNG_FORMAT = { bitDepth: 8, colourType: 2, compression: 0, filter: 0, interlace: 0 } as const

/** Outputs of a text task: one chat completion (JSON). */
export const TEXT_TASK_OUTPUTS = 1

/** A PNG's IHDR fields. */
export interface PngHeader {
  width: number
  height: number
  bitDepth: number
  colourType: number
  compression: number
  filter: number
  interlace: number
}

/** The signature and the IHDR chunk (the first 33 bytes, nothing after them); a reason when they are not a PNG's. */
export function readPngHeader(file: Uint8Array): PngHeader | string {
  if (file.length < PNG_HEADER_BYTES) return `${file.length} bytes is too short for a PNG`
  const b = Buffer.from(file.buffer, file.byteOffset, PNG_HEADER_BYTES)
  if (!b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'not a PNG (bad signature)'
  if (b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') return 'the first chunk is not a 13-byte IHDR'
  if (crc32(b.subarray(12, 29)) !== b.readUInt32BE(29)) return 'the IHDR chunk fails its CRC'
  const width = b.readUInt32BE(16),
    height = b.readUInt32BE(20)
  // The PNG specification caps both at 2^31 − 1; zero is invalid.
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return `invalid dimensions ${width}×${height}`
  return { width, height, bitDepth: b[24]!, colourType: b[25]!, compression: b[26]!, filter: b[27]!, interlace: b[28]! }
}

/**
 * Checks an upload's shape against its task, reading only each PNG's first 33 bytes: as many files
 * as the task produces (`num_images` images, one text output), each image a PNG in
 * `UPLOAD_PNG_FORMAT` of exactly the task's `width` × `height`. A reason when it is refused.
 */
export function uploadShapeError(task: Pick<Task, 'taskType' | 'args'>, files: Uint8Array[]): string | undefined {
  if (task.taskType === TaskType.TASK_TYPE_TEXT) {
    return files.length === TEXT_TASK_OUTPUTS ? undefined : `a text task has ${TEXT_TASK_OUTPUTS} output; the upload has ${files.length}`
  }
  if (task.taskType !== TaskType.TASK_TYPE_IMAGE) return `task type ${task.taskType} takes no upload`
  let args: { width: number; height: number; num_images: number }
  try {
    args = validateImageArgs(JSON.parse(task.args))
  } catch (err) {
    return `the task's args cannot be read: ${(err as Error).message}`
  }
  if (files.length !== args.num_images) return `the task asks for ${args.num_images} image(s); the upload has ${files.length}`
  const f = UPLOAD_PNG_FORMAT
  for (let i = 0; i < files.length; i++) {
    const h = readPngHeader(files[i]!)
    if (typeof h === 'string') return `file ${i}: ${h}`
    if (h.width !== args.width || h.height !== args.height) return `file ${i} is ${h.width}×${h.height}; the task asks for ${args.width}×${args.height}`
    if (h.bitDepth !== f.bitDepth || h.colourType !== f.colourType)
      return `file ${i} has bit depth ${h.bitDepth} and colour type ${h.colourType}; outputs are 8-bit RGB (colour type 2)`
    if (h.compression !== f.compression || h.filter !== f.filter || h.interlace !== f.interlace)
      return `file ${i} has compression ${h.compression}, filter ${h.filter}, interlace ${h.interlace}; outputs use 0, 0 and no interlace`
  }
  return undefined
}
