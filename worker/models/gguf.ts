// Reading a GGUF file: the header and metadata through @huggingface/gguf (a maintained parser), the
// tensor data here, dequantized to float32 exactly as ggml defines its block formats:
//
// | type | id | block | bytes | weight |
// |---|---|---|---|---|
// | F32  | 0 | 1  | 4  | the value |
// | F16  | 1 | 1  | 2  | the IEEE half, widened |
// | Q4_1 | 3 | 32 | 20 | fp16 d, fp16 m, 16 bytes of nibbles: w[j] = d·(q[j] & 0xF) + m, w[j+16] = d·(q[j] >> 4) + m |
// | Q8_0 | 8 | 32 | 34 | fp16 d, 32 int8: w[j] = d·q[j] |
//
// d·q + m is rounded to float32 after the product and after the sum (ggml's scalar reference code
// does the same float arithmetic), so two machines dequantize to the same bits.
import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { gguf, type GGUFTensorInfo } from '@huggingface/gguf'

export const GGML_TYPE = { F32: 0, F16: 1, Q4_1: 3, Q8_0: 8 } as const

export type GgufMetadataValue = string | number | bigint | boolean | GgufMetadataValue[]

export interface GgufTensor {
  name: string
  /** ggml order: shape[0] is the fastest-varying (for a weight matrix, the input features). */
  shape: number[]
  type: number
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number
}

export interface GgufFile {
  path: string
  metadata: Record<string, GgufMetadataValue>
  tensors: Map<string, GgufTensor>
}

const BLOCK: Record<number, { weights: number; bytes: number }> = {
  [GGML_TYPE.F32]: { weights: 1, bytes: 4 },
  [GGML_TYPE.F16]: { weights: 1, bytes: 2 },
  [GGML_TYPE.Q4_1]: { weights: 32, bytes: 20 },
  [GGML_TYPE.Q8_0]: { weights: 32, bytes: 34 },
}

/** Parses a local GGUF file's header, metadata and tensor table. */
export async function readGguf(path: string): Promise<GgufFile> {
  const abs = resolve(path)
  const r = await gguf(abs, { allowLocalFile: true })
  if (!r.littleEndian) throw new Error(`${path}: big-endian GGUF files are not supported`)
  const base = Number(r.tensorDataOffset)
  const tensors = new Map<string, GgufTensor>()
  for (const t of r.tensorInfos as GGUFTensorInfo[]) {
    tensors.set(t.name, { name: t.name, shape: t.shape.map(Number), type: t.dtype, offset: base + Number(t.offset) })
  }
  return { path: abs, metadata: r.metadata as unknown as Record<string, GgufMetadataValue>, tensors }
}

/** IEEE 754 binary16 → number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * f * 2 ** -24
  if (e === 31) return f ? NaN : s * Infinity
  return s * (1024 + f) * 2 ** (e - 25)
}

/** Dequantizes raw tensor bytes of a ggml type into float32 values (ggml order). */
export function dequantize(type: number, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const fr = Math.fround
  switch (type) {
    case GGML_TYPE.F32:
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true)
      return out
    case GGML_TYPE.F16:
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true))
      return out
    case GGML_TYPE.Q4_1:
      for (let b = 0; b < count / 32; b++) {
        const o = b * 20
        const d = halfToFloat(dv.getUint16(o, true))
        const m = halfToFloat(dv.getUint16(o + 2, true))
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 4 + j]!
          out[b * 32 + j] = fr(fr(d * (q & 0x0f)) + m)
          out[b * 32 + j + 16] = fr(fr(d * (q >> 4)) + m)
        }
      }
      return out
    case GGML_TYPE.Q8_0:
      for (let b = 0; b < count / 32; b++) {
        const o = b * 34
        const d = halfToFloat(dv.getUint16(o, true))
        for (let j = 0; j < 32; j++) out[b * 32 + j] = fr(d * dv.getInt8(o + 2 + j))
      }
      return out
    default:
      throw new Error(`ggml type ${type} is not supported (F32, F16, Q4_1 and Q8_0 are)`)
  }
}

/** Reads one tensor and dequantizes it to float32, in ggml order. */
export async function readTensor(file: GgufFile, name: string): Promise<{ shape: number[]; data: Float32Array }> {
  const t = file.tensors.get(name)
  if (!t) throw new Error(`${file.path}: no tensor ${name}`)
  const block = BLOCK[t.type]
  if (!block) throw new Error(`${name}: ggml type ${t.type} is not supported (F32, F16, Q4_1 and Q8_0 are)`)
  const count = t.shape.reduce((a, b) => a * b, 1)
  if (count % block.weights) throw new Error(`${name}: ${count} weights is not a whole number of blocks`)
  const size = (count / block.weights) * block.bytes
  const fh = await open(file.path, 'r')
  try {
    const buf = new Uint8Array(size)
    const { bytesRead } = await fh.read(buf, 0, size, t.offset)
    if (bytesRead !== size) throw new Error(`${file.path}: ${name} is truncated`)
    return { shape: t.shape, data: dequantize(t.type, buf, count) }
  } finally {
    await fh.close()
  }
}

export function metaNumber(file: GgufFile, key: string): number {
  const v = file.metadata[key]
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new Error(`${file.path}: metadata ${key} is missing or not a number`)
  return Number(v)
}

export function metaString(file: GgufFile, key: string): string {
  const v = file.metadata[key]
  if (typeof v !== 'string') throw new Error(`${file.path}: metadata ${key} is missing or not a string`)
  return v
}

export function metaArray<T extends GgufMetadataValue>(file: GgufFile, key: string): T[] {
  const v = file.metadata[key]
  if (!Array.isArray(v)) throw new Error(`${file.path}: metadata ${key} is missing or not an array`)
  return v as T[]
}
