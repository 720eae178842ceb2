import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { toBech32 } from '@cosmjs/encoding'
import { ripemd160 } from '@noble/hashes/legacy.js'

export const SECP256K1_PUBKEY_TYPE = '/cosmos.crypto.secp256k1.PubKey'

// secp256k1 group order and half of it: the SDK accepts only low-S signatures (s <= n/2), and
// OpenSSL accepts both twins, so the check is ours.
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = N >> 1n

export const sha256 = (data: Uint8Array): Uint8Array => createHash('sha256').update(data).digest()

/** The account address of a compressed secp256k1 key, as the SDK and cosmjs derive it. */
export function addressFromPubKey(pubKey: Uint8Array, prefix: string): string {
  return toBech32(prefix, ripemd160(sha256(pubKey)))
}

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
  const key = keyObject(pubKey)
  if (!key) return false
  let ok = false
  try {
    ok = verify('sha256', signBytes, { key, dsaEncoding: 'ieee-p1363' }, sig)
  } catch {
    ok = false
  }
  if (ok) {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.values().next().value!)
    verified.add(id)
  }
  return ok
}
