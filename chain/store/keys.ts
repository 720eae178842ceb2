// Byte-string helpers for map keys: a latin1 string keeps one character per byte, so JS string
// order equals unsigned byte order (which `sort()` then gives deterministically).
export const toMapKey = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1')
export const fromMapKey = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'))
