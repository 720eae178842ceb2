import assert from 'node:assert/strict'
import { PNG_HEADER_BYTES, readPngHeader, uploadShapeError } from '../../../gateway/upload.ts'
import { TaskType } from '../../../proto/gen/beryl/task/v1/types.ts'
import { ihdrData, pngChunk, pngWithHeader, runnerPng } from '../../helpers/png.ts'

const image = (args: object) => ({ taskType: TaskType.TASK_TYPE_IMAGE, args: JSON.stringify({ prompt: 'x', ...args }) })
const text = { taskType: TaskType.TASK_TYPE_TEXT, args: JSON.stringify({ prompt: 'x' }) }

describe("the gateway's upload shape check (before any pixel is decoded)", () => {
  it('reads the signature and IHDR of what the image runner writes, and accepts it at the size the task asks for', async () => {
    const png = await runnerPng(64, 96)
    assert.deepEqual(readPngHeader(png), { width: 64, height: 96, bitDepth: 8, colourType: 2, compression: 0, filter: 0, interlace: 0 })
    assert.equal(uploadShapeError(image({ width: 64, height: 96 }), [png]), undefined)
    assert.equal(uploadShapeError(image({ width: 64, height: 96, num_images: 3 }), [png, png, png]), undefined)
  })

  it('PNG bomb refused from its header', () => {
    // 16383 × 16383 RGBA at 16 bits per sample: 2 GiB of pixels promised by a file of about a hundred bytes.
    const bomb = pngWithHeader({ width: 16383, height: 16383, bitDepth: 16, colourType: 6 })
    assert.ok(bomb.length < 200)
    assert.match(uploadShapeError(image({ width: 1024, height: 1024 }), [bomb])!, /file 0 is 16383×16383; the task asks for 1024×1024/)
    // Only the first 33 bytes are read: the header alone is refused the same way, with no IDAT to decode.
    const header = bomb.subarray(0, PNG_HEADER_BYTES)
    assert.match(uploadShapeError(image({ width: 1024, height: 1024 }), [header])!, /16383×16383/)
    // At the task's size, a 16-bit RGBA file is refused for its format.
    assert.match(
      uploadShapeError(image({ width: 64, height: 64 }), [pngWithHeader({ width: 64, height: 64, bitDepth: 16, colourType: 6 })])!,
      /bit depth 16 and colour type 6; outputs are 8-bit RGB/,
    )
  })

  it("a PNG whose header declares dimensions other than the task's width × height is refused", () => {
    const args = image({ width: 128, height: 64 })
    assert.match(uploadShapeError(args, [pngWithHeader({ width: 64, height: 128 })])!, /file 0 is 64×128; the task asks for 128×64/)
    assert.match(uploadShapeError(args, [pngWithHeader({ width: 128, height: 65 })])!, /128×65/)
    // Without width and height in the args, the schema's defaults (256 × 256) are the task's size.
    assert.equal(uploadShapeError(image({}), [pngWithHeader({ width: 256, height: 256 })]), undefined)
    assert.match(uploadShapeError(image({}), [pngWithHeader({ width: 512, height: 512 })])!, /the task asks for 256×256/)
  })

  it('an upload with more images than the task asks for (or fewer) is refused', () => {
    const png = pngWithHeader({ width: 64, height: 64 })
    assert.match(uploadShapeError(image({ width: 64, height: 64 }), [png, png])!, /the task asks for 1 image\(s\); the upload has 2/)
    assert.match(uploadShapeError(image({ width: 64, height: 64, num_images: 2 }), [png, png, png, png, png])!, /asks for 2 image\(s\); the upload has 5/)
    assert.match(uploadShapeError(image({ width: 64, height: 64, num_images: 3 }), [png])!, /asks for 3 image\(s\); the upload has 1/)
    // A later image is checked as the first is.
    assert.match(uploadShapeError(image({ width: 64, height: 64, num_images: 2 }), [png, pngWithHeader({ width: 64, height: 72 })])!, /file 1 is 64×72/)
  })

  it('a text task takes exactly one output', () => {
    assert.equal(uploadShapeError(text, [Buffer.from('{}')]), undefined)
    assert.match(uploadShapeError(text, [Buffer.from('{}'), Buffer.from('{}')])!, /a text task has 1 output; the upload has 2/)
  })

  it('formats the runner never writes are refused: palette, grey, alpha, 16-bit, interlaced', () => {
    const args = image({ width: 64, height: 64 })
    for (const [fields, why] of [
      [{ colourType: 3 }, /colour type 3/],
      [{ colourType: 0 }, /colour type 0/],
      [{ colourType: 6 }, /colour type 6/],
      [{ bitDepth: 16 }, /bit depth 16/],
      [{ interlace: 1 }, /interlace 1/],
    ] as const)
      assert.match(uploadShapeError(args, [pngWithHeader({ width: 64, height: 64, ...fields })])!, why)
  })

  it('what is not a PNG header is refused with the reason', () => {
    const good = pngWithHeader({ width: 64, height: 64 })
    const args = image({ width: 64, height: 64 })
    assert.match(uploadShapeError(args, [Buffer.from('not a png')])!, /file 0: 9 bytes is too short for a PNG/)
    const badSig = Buffer.from(good)
    badSig[1] = 0x51
    assert.match(uploadShapeError(args, [badSig])!, /bad signature/)
    const badCrc = Buffer.from(good)
    badCrc[20]! ^= 1 // inside IHDR's height
    assert.match(uploadShapeError(args, [badCrc])!, /IHDR chunk fails its CRC/)
    const firstNotIhdr = Buffer.concat([good.subarray(0, 8), pngChunk('tEXt', ihdrData({ width: 64, height: 64 })), good.subarray(8)])
    assert.match(uploadShapeError(args, [firstNotIhdr])!, /first chunk is not a 13-byte IHDR/)
    assert.match(uploadShapeError(args, [pngWithHeader({ width: 0, height: 64 })])!, /invalid dimensions 0×64/)
    assert.match(uploadShapeError(args, [pngWithHeader({ width: 0x80000000, height: 64 })])!, /invalid dimensions/)
  })
})
