// ECVRF-EDWARDS25519-SHA512-TAI, RFC 9381 suite 0x03.
//
// Why this exists: MsgValidateTask has to check, on every validator, that the
// task creator's sampling decision came from a VRF evaluated over the chain-fixed
// `sampling_seed` with the `vrf_public_key` committed at task creation. The
// creator learns beta (and hence whether the task is sampled) before anyone
// else, but cannot choose it. No maintained npm package implements this suite
// (see ../shared/reference/deps.md), so it is written here on @noble/curves.
//
// Section numbers in comments refer to RFC 9381. Known-answer tests against
// Appendix B.3 examples 16-18 live in test/unit/vss/ecvrf.test.ts.
//
// Consensus notes:
// - ecvrfVerify is the only function run by validators. It is total: any input
//   (wrong types, wrong lengths, garbage bytes) yields null, never an exception,
//   so a malformed transaction cannot make one validator throw where another
//   returns false.
// - Point decoding is strict RFC 8032 §5.1.3 (y < p, no "negative zero"), so
//   every accepted point has exactly one encoding and the challenge hash is
//   computed over the same bytes that were received.
// - s >= q is rejected (§5.4.4), otherwise (Gamma, c, s + q) would be a second
//   valid encoding of the same proof.
// - Small-order public keys are rejected (§5.4.5, validate_key = TRUE). With
//   such a key the creator could forge proofs for any beta it likes (the test
//   file builds such a forgery for every small-order point).

import { ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'

const Point = ed25519.Point
type EdPoint = InstanceType<typeof Point>

/** Group order q (called L in RFC 8032). */
const Q = Point.Fn.ORDER

const SUITE = 0x03
// Domain-separator octets, §5.4.1.1, §5.4.3, §5.2.
const ENCODE_TO_CURVE_FRONT = 0x01
const ENCODE_TO_CURVE_BACK = 0x00
const CHALLENGE_FRONT = 0x02
const CHALLENGE_BACK = 0x00
const PROOF_TO_HASH_FRONT = 0x03
const PROOF_TO_HASH_BACK = 0x00

/** ptLen: an encoded edwards25519 point. */
export const ECVRF_POINT_LENGTH = 32
/** cLen: the challenge is truncated to 16 octets (128-bit security). */
export const ECVRF_CHALLENGE_LENGTH = 16
/** qLen: an encoded scalar. */
export const ECVRF_SCALAR_LENGTH = 32
/** pi = Gamma (32) || c (16) || s (32). */
export const ECVRF_PROOF_LENGTH = ECVRF_POINT_LENGTH + ECVRF_CHALLENGE_LENGTH + ECVRF_SCALAR_LENGTH
export const ECVRF_PUBLIC_KEY_LENGTH = 32
export const ECVRF_SECRET_KEY_LENGTH = 32

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0
  for (const p of parts) len += p.length
  const out = new Uint8Array(len)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

// string_to_int / int_to_string for this suite are little-endian (§5.5,
// following RFC 8032 §5.1.2).
function leToInt(bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!)
  return n
}

function intToLe(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len)
  let v = n
  for (let i = 0; i < len; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  if (v !== 0n) throw new RangeError('integer does not fit in ' + len + ' octets')
  return out
}

/**
 * string_to_point (§5.5): strict RFC 8032 §5.1.3 decoding, null for INVALID.
 * zip215 = false makes noble reject y >= p and x = 0 with the sign bit set,
 * i.e. every non-canonical encoding.
 */
function stringToPoint(bytes: Uint8Array): EdPoint | null {
  if (bytes.length !== ECVRF_POINT_LENGTH) return null
  try {
    return Point.fromBytes(bytes, false)
  } catch {
    return null
  }
}

/**
 * ECVRF_encode_to_curve_try_and_increment (§5.4.1.1) with
 * encode_to_curve_salt = PK_string (§5.5, suite 0x03).
 *
 * Hashes (suite, 0x01, PK, alpha, ctr, 0x00) with increasing one-octet ctr
 * until the first 32 octets decode to a point whose cofactor multiple is not
 * the identity. Each attempt succeeds with probability about 1/2, so 256
 * failures in a row (null) do not happen in practice; the RFC makes the
 * one-octet counter a hard limit, and so do we, so that prover and verifier
 * agree on the outcome even there.
 */
function encodeToCurve(pkString: Uint8Array, alpha: Uint8Array): { point: EdPoint; ctr: number } | null {
  const head = Uint8Array.of(SUITE, ENCODE_TO_CURVE_FRONT)
  for (let ctr = 0; ctr < 256; ctr++) {
    const hash = sha512(concat(head, pkString, alpha, Uint8Array.of(ctr, ENCODE_TO_CURVE_BACK)))
    const candidate = stringToPoint(hash.subarray(0, ECVRF_POINT_LENGTH))
    if (candidate === null) continue
    const h = candidate.clearCofactor()
    if (!h.is0()) return { point: h, ctr }
  }
  return null
}

/**
 * ECVRF_challenge_generation (§5.4.3) over the five points
 * (Y, H, Gamma, U, V), truncated to cLen = 16 octets, read little-endian.
 */
function challenge(...points: Uint8Array[]): bigint {
  const digest = sha512(concat(Uint8Array.of(SUITE, CHALLENGE_FRONT), ...points, Uint8Array.of(CHALLENGE_BACK)))
  return leToInt(digest.subarray(0, ECVRF_CHALLENGE_LENGTH))
}

/** beta = SHA-512(suite || 0x03 || point_to_string(cofactor * Gamma) || 0x00), §5.2. */
function gammaToHash(gamma: EdPoint): Uint8Array {
  return sha512(concat(Uint8Array.of(SUITE, PROOF_TO_HASH_FRONT), gamma.clearCofactor().toBytes(), Uint8Array.of(PROOF_TO_HASH_BACK)))
}

/**
 * ECVRF_decode_proof (§5.4.4): null for INVALID. Gamma must decode
 * canonically; c is 16 octets and so always < q; s must be < q.
 */
function decodeProof(pi: Uint8Array): { gamma: EdPoint; c: bigint; s: bigint } | null {
  if (pi.length !== ECVRF_PROOF_LENGTH) return null
  const gamma = stringToPoint(pi.subarray(0, ECVRF_POINT_LENGTH))
  if (gamma === null) return null
  const c = leToInt(pi.subarray(ECVRF_POINT_LENGTH, ECVRF_POINT_LENGTH + ECVRF_CHALLENGE_LENGTH))
  const s = leToInt(pi.subarray(ECVRF_POINT_LENGTH + ECVRF_CHALLENGE_LENGTH))
  if (s >= Q) return null
  return { gamma, c, s }
}

function assertSecretKey(secretKey: unknown): asserts secretKey is Uint8Array {
  if (!isBytes(secretKey) || secretKey.length !== ECVRF_SECRET_KEY_LENGTH) {
    throw new TypeError('ECVRF secret key must be a Uint8Array of ' + ECVRF_SECRET_KEY_LENGTH + ' bytes')
  }
}

/**
 * The VRF public key for a 32-byte secret key: the Ed25519 public key of the
 * same seed (§5.5 takes key generation from RFC 8032 §5.1.5).
 */
export function ecvrfPublicKey(secretKey: Uint8Array): Uint8Array {
  assertSecretKey(secretKey)
  return ed25519.getPublicKey(secretKey)
}

/**
 * ECVRF_prove (§5.1). Deterministic: the nonce is derived from the secret
 * key and H (§5.4.2.2), so the same (key, alpha) always yields the same pi.
 * Runs on the task creator's side, not in consensus, so it throws on bad
 * input instead of returning null.
 */
export function ecvrfProve(secretKey: Uint8Array, alpha: Uint8Array): Uint8Array {
  assertSecretKey(secretKey)
  if (!isBytes(alpha)) throw new TypeError('ECVRF alpha must be a Uint8Array')
  // scalar = x mod q (clamped per RFC 8032); prefix = SHA-512(SK)[32..63],
  // which is exactly what the nonce derivation of §5.4.2.2 hashes.
  const { scalar: x, prefix, pointBytes: pk } = ed25519.utils.getExtendedPublicKey(secretKey)
  const encoded = encodeToCurve(pk, alpha)
  if (encoded === null) throw new Error('ECVRF encode_to_curve failed after 256 attempts')
  const h = encoded.point
  const hString = h.toBytes()
  // Constant-time multiply for everything that involves x or k.
  const gamma = h.multiply(x)
  const k = leToInt(sha512(concat(prefix, hString))) % Q
  const u = Point.BASE.multiply(k)
  const v = h.multiply(k)
  const c = challenge(pk, hString, gamma.toBytes(), u.toBytes(), v.toBytes())
  const s = (k + c * x) % Q
  return concat(gamma.toBytes(), intToLe(c, ECVRF_CHALLENGE_LENGTH), intToLe(s, ECVRF_SCALAR_LENGTH))
}

/**
 * ECVRF_proof_to_hash (§5.2): beta from a proof, or null when the proof does
 * not even decode. This does NOT verify the proof: the RFC warns that beta is
 * only meaningful after ecvrfVerify accepted pi. The creator uses it to learn
 * its own sampling decision; validators must use ecvrfVerify.
 */
export function ecvrfProofToHash(proof: Uint8Array): Uint8Array | null {
  if (!isBytes(proof)) return null
  try {
    const d = decodeProof(proof)
    return d === null ? null : gammaToHash(d.gamma)
  } catch {
    return null
  }
}

/**
 * ECVRF_verify (§5.3) with validate_key = TRUE. Returns beta (64 bytes) when
 * pi is a valid proof for (publicKey, alpha), null otherwise. Never throws.
 */
export function ecvrfVerify(publicKey: Uint8Array, proof: Uint8Array, alpha: Uint8Array): Uint8Array | null {
  if (!isBytes(publicKey) || !isBytes(proof) || !isBytes(alpha)) return null
  if (publicKey.length !== ECVRF_PUBLIC_KEY_LENGTH || proof.length !== ECVRF_PROOF_LENGTH) return null
  try {
    // Steps 1-3: decode Y and validate it (§5.4.5: cofactor * Y != identity).
    const y = stringToPoint(publicKey)
    if (y === null || y.isSmallOrder()) return null
    // Steps 4-6.
    const d = decodeProof(proof)
    if (d === null) return null
    const { gamma, c, s } = d
    // Step 7. salt = PK_string; strict decoding guarantees it equals
    // point_to_string(Y), the bytes the prover hashed.
    const encoded = encodeToCurve(publicKey, alpha)
    if (encoded === null) return null
    const h = encoded.point
    // Steps 8-9: U = s*B - c*Y, V = s*H - c*Gamma. All inputs are public,
    // so the variable-time multiply is fine. 0 <= s < q and c < 2^128 < q,
    // as multiplyUnsafe requires.
    const u = Point.BASE.multiplyUnsafe(s).subtract(y.multiplyUnsafe(c))
    const v = h.multiplyUnsafe(s).subtract(gamma.multiplyUnsafe(c))
    // Steps 10-11.
    const cPrime = challenge(y.toBytes(), h.toBytes(), gamma.toBytes(), u.toBytes(), v.toBytes())
    if (cPrime !== c) return null
    return gammaToHash(gamma)
  } catch {
    // Any failure inside the curve library is treated as INVALID so that the
    // result is a pure function of the input bytes.
    return null
  }
}

/**
 * Test hook: encode_to_curve output for known-answer tests against the RFC's
 * intermediate H and ctr values. Not needed by callers of the VRF.
 */
export function ecvrfEncodeToCurve(publicKey: Uint8Array, alpha: Uint8Array): { h: Uint8Array; ctr: number } | null {
  if (!isBytes(publicKey) || !isBytes(alpha)) return null
  const encoded = encodeToCurve(publicKey, alpha)
  return encoded === null ? null : { h: encoded.point.toBytes(), ctr: encoded.ctr }
}
