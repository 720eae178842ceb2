// Unscaled DCT-II on 64 samples (Byeong Gi Lee's recursive factorisation), in
// the exact operation order goimagehash v1.1.0 uses in `DCT1DFast64` /
// `DCT2DFast64`. Floating-point addition is not associative, so every sum,
// difference and division below happens in the same order and on the same
// operands as in Go; JS numbers are IEEE-754 binary64 like Go's float64 and
// V8 never fuses multiply-adds, so the results are bit-identical.

// The divisors 2·cos((i + ½)·π / n). They are stored as the exact float64 bit
// patterns Go computes (math.Cos is a pure-Go routine): V8's Math.cos differs
// from it by one ulp in 20 of these 63 entries, which would leak into the hash.
function table(hex: string): Float64Array {
  const words = hex.trim().split(/\s+/)
  const out = new Float64Array(words.length)
  const view = new DataView(out.buffer)
  words.forEach((w, i) => view.setBigUint64(i * 8, BigInt('0x' + w), true))
  return out
}

const DCT64 = table(`
  3ffffd886084cd0c 3fffe9cdad01883a 3fffc26470e19fd4 3fff8764fa714ba9 3fff38f3ac64e589 3ffed740e7684963
  3ffe6288ec48e112 3ffddb13b6ccc23c 3ffd4134d14dc93a 3ffc954b213411f5 3ffbd7c0ac6f9529 3ffb090a58150200
  3ffa29a7a0462782 3ff93a22499263fc 3ff83b0e0bff976e 3ff72d0837efff97 3ff610b7551d2cdf 3ff4e6cabbe3e5ea
  3ff3affa292050ba 3ff26d054cdd12e0 3ff11eb3541b4b24 3fef8ba4dbf89abc 3fecc66e9931c45e 3fe9ef7943a8ed89
  3fe7088530fa45a1 3fe4135c94176602 3fe111d262b1f678 3fdc0b826a7e4f62 3fd5e214448b3fcb 3fcf564e56a97314
  3fc2d52092ce19f8 3fa92155f7a36678`)
const DCT32 = table(`
  3ffff621e3796d7e 3fffa7557f08a517 3fff0a7efb9230d8 3ffe212104f686e5 3ffced7af43cc773 3ffb728345196e3e
  3ff9b3e047f38741 3ff7b5df226aafaf 3ff57d69348ceca0 3ff30ff7fce17036 3ff073879922ffee 3feb5d1009e15cc2
  3fe58f9a75ab1fdd 3fdf19f97b215f1e 3fd2c8106e8e613a 3fb91f65f10dd825`)
const DCT16 = table(`
  3fffd88da3d12525 3ffe9f4156c62dda 3ffc38b2f180bdb1 3ff8bc806b151741 3ff44cf325091dd7 3fee2b5d3806f63e
  3fe294062ed59f04 3fc917a6bc29b438`)
const DCT8 = table('3fff6297cff75cb0 3ffa9b66290ea1a4 3ff1c73b39ae68c9 3fd8f8b83c69a60c')
const DCT4 = table('3ffd906bcf328d46 3fe87de2a6aea964')
const DCT2_0 = table('3ff6a09e667f3bcd')[0]!

/** Exposed for the tests that pin the tables. */
export const DCT_TABLES = { DCT64, DCT32, DCT16, DCT8, DCT4, DCT2: Float64Array.of(DCT2_0) }

// One scratch buffer per recursion level: each level finishes with its
// scratch before its caller touches its own again, so sharing is safe.
const s64 = new Float64Array(64)
const s32 = new Float64Array(32)
const s16 = new Float64Array(16)
const s8 = new Float64Array(8)

function dct4(a: Float64Array, o: number): void {
  const x0 = a[o]!,
    y0 = a[o + 3]!
  const x1 = a[o + 1]!,
    y1 = a[o + 2]!
  let t0 = x0 + y0
  let t1 = x1 + y1
  let t2 = (x0 - y0) / DCT4[0]!
  let t3 = (x1 - y1) / DCT4[1]!
  let x = t0,
    y = t1
  t0 += t1
  t1 = (x - y) / DCT2_0
  x = t2
  y = t3
  t2 += t3
  t3 = (x - y) / DCT2_0
  a[o] = t0
  a[o + 1] = t2 + t3
  a[o + 2] = t1
  a[o + 3] = t3
}

function dct8(a: Float64Array, o: number): void {
  const t = s8
  const x0 = a[o]!,
    y0 = a[o + 7]!
  const x1 = a[o + 1]!,
    y1 = a[o + 6]!
  const x2 = a[o + 2]!,
    y2 = a[o + 5]!
  const x3 = a[o + 3]!,
    y3 = a[o + 4]!
  t[0] = x0 + y0
  t[1] = x1 + y1
  t[2] = x2 + y2
  t[3] = x3 + y3
  t[4] = (x0 - y0) / DCT8[0]!
  t[5] = (x1 - y1) / DCT8[1]!
  t[6] = (x2 - y2) / DCT8[2]!
  t[7] = (x3 - y3) / DCT8[3]!
  dct4(t, 0)
  dct4(t, 4)
  a[o] = t[0]!
  a[o + 1] = t[4]! + t[5]!
  a[o + 2] = t[1]!
  a[o + 3] = t[5]! + t[6]!
  a[o + 4] = t[2]!
  a[o + 5] = t[6]! + t[7]!
  a[o + 6] = t[3]!
  a[o + 7] = t[7]!
}

// The 16- and 32-point steps have the same shape: fold into sums and scaled
// differences, transform both halves, then interleave with neighbour sums.
function dct16(a: Float64Array, o: number): void {
  const t = s16
  for (let i = 0; i < 8; i++) {
    const x = a[o + i]!,
      y = a[o + 15 - i]!
    t[i] = x + y
    t[i + 8] = (x - y) / DCT16[i]!
  }
  dct8(t, 0)
  dct8(t, 8)
  for (let i = 0; i < 7; i++) {
    a[o + 2 * i] = t[i]!
    a[o + 2 * i + 1] = t[i + 8]! + t[i + 9]!
  }
  a[o + 14] = t[7]!
  a[o + 15] = t[15]!
}

function dct32(a: Float64Array, o: number): void {
  const t = s32
  for (let i = 0; i < 16; i++) {
    const x = a[o + i]!,
      y = a[o + 31 - i]!
    t[i] = x + y
    t[i + 16] = (x - y) / DCT32[i]!
  }
  dct16(t, 0)
  dct16(t, 16)
  for (let i = 0; i < 15; i++) {
    a[o + 2 * i] = t[i]!
    a[o + 2 * i + 1] = t[i + 16]! + t[i + 17]!
  }
  a[o + 30] = t[15]!
  a[o + 31] = t[31]!
}

/** In-place 64-point DCT-II of a[o .. o+63]. */
export function dct64(a: Float64Array, o: number): void {
  const t = s64
  for (let i = 0; i < 32; i++) {
    const x = a[o + i]!,
      y = a[o + 63 - i]!
    t[i] = x + y
    t[i + 32] = (x - y) / DCT64[i]!
  }
  dct32(t, 0)
  dct32(t, 32)
  for (let i = 0; i < 31; i++) {
    a[o + 2 * i] = t[i]!
    a[o + 2 * i + 1] = t[i + 32]! + t[i + 33]!
  }
  a[o + 62] = t[31]!
  a[o + 63] = t[63]!
}

const column = new Float64Array(64)

/** In-place separable 2-D DCT of a 64×64 row-major block: rows first, then columns. */
export function dct2d64(px: Float64Array): void {
  if (px.length !== 4096) throw new Error('dct2d64: expected 4096 samples')
  for (let i = 0; i < 64; i++) dct64(px, i * 64)
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 64; j++) column[j] = px[i + j * 64]!
    dct64(column, 0)
    for (let j = 0; j < 64; j++) px[i + j * 64] = column[j]!
  }
}
