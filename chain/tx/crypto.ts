import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { fromBech32, toBech32 } from '@cosmjs/encoding'
import { ripemd160 } from '@noble/hashes/legacy.js'

export const SECP256K1_PUBKEY_TYPE = '/cosmos.crypto.secp256k1.PubKey'

// secp256k1 group order and half of it: the SDK accepts only low-S signatures (s <= n/2), and
// OpenSSL accepts both twins, so the check is ours.
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = N >> 1n

export const sha256 = (data: Uint8Array): Uint8Array => createHash('sha256').update(data).digest()

/** A bounded memo: addresses and keys repeat constantly, and bech32 in JS is slow. */
function memo<V>(limit: number) {
  const m = new Map<string, V>()
  return (key: string, make: () => V): V => {
    let v = m.get(key)
    if (v === undefined) {
      v = make()
      if (m.size >= limit) m.delete(m.keys().next().value!)
      m.set(key, v)
    }
    return v
  }
}

const addressOfKey = memo<string>(50_000)
/** The account address of a compressed secp256k1 key, as the SDK and cosmjs derive it. */
export function addressFromPubKey(pubKey: Uint8Array, prefix: string): string {
  return addressOfKey(prefix + Buffer.from(pubKey).toString('hex'), () => toBech32(prefix, ripemd160(sha256(pubKey))))
}

const decoded = memo<{ prefix: string; data: Uint8Array } | Error>(100_000)
/** bech32 decoding (memoized; the returned bytes must not be modified). Throws on invalid input. */
export function decodeBech32(address: string): { prefix: string; data: Uint8Array } {
  const r = decoded(address, () => {
    try {
      return fromBech32(address)
    } catch (err) {
      return err as Error
    }
  })
  if (r instanceof Error) throw r
  return r
}

// Signature checks are the hot path of CheckTx. libsecp256k1 (the native build that ships in
// the `secp256k1` package) verifies about 6× faster than OpenSSL's generic curve code; where no
// prebuilt binary loads, node:crypto does the same check. Both implement the same ECDSA
// verification, so validators agree whichever they use.
interface LibSecp256k1 {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean
}
const libsecp256k1: LibSecp256k1 | undefined = (() => {
  if (process.env.BERYL_NO_LIBSECP256K1) return undefined
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as LibSecp256k1
  } catch {
    return undefined
  }
})()

export const secp256k1Backend = libsecp256k1 ? 'libsecp256k1' : 'node:crypto'

const SPKI_PREFIX = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex')
const keyCache = new Map<string, KeyObject>()

function keyObject(pubKey: Uint8Array): KeyObject | undefined {
  const id = Buffer.from(pubKey).toString('hex')
  let k = keyCache.get(id)
  if (k) return k
  try {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pubKey]), format: 'der', type: 'spki' })
  } catch {
    return undefined
  }
  if (keyCache.size >= 20_000) keyCache.delete(keyCache.keys().next().value!)
  keyCache.set(id, k)
  return k
}

// Verified (sign bytes, key, signature) triples. Validity is a pure function of the three, so
// a result found in CheckTx can be reused in the block without verifying twice.
const verified = new Set<string>()
const VERIFIED_MAX = 100_000

/** ECDSA secp256k1 over sha256(signBytes): 64-byte r||s, low-S only, 33-byte compressed key. */
export function verifySecp256k1(pubKey: Uint8Array, signBytes: Uint8Array, sig: Uint8Array): boolean {
  if (pubKey.length !== 33 || (pubKey[0] !== 2 && pubKey[0] !== 3) || sig.length !== 64) return false
  const r = BigInt('0x' + Buffer.from(sig.subarray(0, 32)).toString('hex'))
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'))
  if (r === 0n || s === 0n || r >= N || s > HALF_N) return false
  const id = createHash('sha256').update(signBytes).update(pubKey).update(sig).digest('base64')
  if (verified.has(id)) return true
  let ok = false
  if (libsecp256k1) {
    try {
      ok = libsecp256k1.ecdsaVerify(sig, sha256(signBytes), pubKey)
    } catch {
      ok = false // an invalid key or signature encoding
    }
  } else {
    const key = keyObject(pubKey)
    if (!key) return false
    try {
      ok = verify('sha256', signBytes, { key, dsaEncoding: 'ieee-p1363' }, sig)
    } catch {
      ok = false
    }
  }
  if (ok) {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.values().next().value!)
    verified.add(id)
  }
  return ok
}
