// ABCI socket framing: every message is `uvarint(length) || protobuf bytes` (CometBFT >= 0.37
// uses an unsigned varint; the old zig-zag framing of js-abci does not interoperate).

export class FrameError extends Error {}

export function encodeUvarint(n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Uint8Array.from(out)
}

export function frame(body: Uint8Array): Buffer {
  return Buffer.concat([encodeUvarint(body.length), body])
}

/**
 * Accumulates socket chunks and yields complete frames. A chunk may carry part of a frame or
 * several frames. A length above `maxFrameBytes`, or a varint longer than 10 bytes, is a
 * protocol violation: the caller closes that connection.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)
  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Uint8Array[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const frames: Uint8Array[] = []
    for (;;) {
      const header = this.readLength()
      if (header === undefined) break
      const [len, headerBytes] = header
      if (this.buf.length < headerBytes + len) break
      frames.push(this.buf.subarray(headerBytes, headerBytes + len))
      this.buf = this.buf.subarray(headerBytes + len)
    }
    return frames
  }

  get buffered(): number {
    return this.buf.length
  }

  private readLength(): [number, number] | undefined {
    let value = 0
    let scale = 1
    for (let i = 0; i < this.buf.length; i++) {
      if (i >= 10) throw new FrameError('frame length varint is longer than 10 bytes')
      const b = this.buf[i]!
      value += (b & 0x7f) * scale
      scale *= 128
      if (value > this.maxFrameBytes) throw new FrameError(`frame of ${value} bytes exceeds the limit of ${this.maxFrameBytes}`)
      if ((b & 0x80) === 0) return [value, i + 1]
    }
    return undefined
  }
}
