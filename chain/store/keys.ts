// Byte-string helpers for map keys: a latin1 string keeps one character per byte, so JS string
// order equals unsigned byte order (which `sort()` then gives deterministically).
//
// Keys are short and freshly built (a prefix view allocates each full key): reading `k.buffer` of such an
// array makes V8 move its bytes out of the heap first, which cost more than the rest of a store read.
// Character codes are read and written directly instead; long keys take Buffer's latin1 codec.
const SHORT = 1024

export const toMapKey = (k: Uint8Array): string =>
  k.length <= SHORT ? String.fromCharCode.apply(null, k as unknown as number[]) : Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1')

export const fromMapKey = (s: string): Uint8Array => {
  if (s.length > SHORT) return new Uint8Array(Buffer.from(s, 'latin1'))
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}
