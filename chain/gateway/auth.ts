import { createHash } from 'node:crypto'
import { addressFromPubKey, verifySecp256k1 } from '../tx/crypto.ts'

export const WORKER_PROTOCOL = '/beryl/worker/1'

/**
 * The bytes a worker signs to prove control of its node account: domain tag, chain id, its own
 * peer id and the gateway's fresh nonce, NUL-separated. Binding the peer id stops a proof from
 * being relayed to another connection; the nonce stops it being replayed.
 */
export function authDocument(chainId: string, workerPeerId: string, nonce: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(WORKER_PROTOCOL), Uint8Array.of(0), Buffer.from(chainId), Uint8Array.of(0), Buffer.from(workerPeerId), Uint8Array.of(0), nonce])
}

export function authDigest(doc: Uint8Array): Uint8Array {
  return createHash('sha256').update(doc).digest()
}

/** Checks an Auth reply; returns the proven address or a reason. */
export function verifyAuth(a: { address: string; pubKey: Uint8Array; signature: Uint8Array }, doc: Uint8Array, prefix: string): { address: string } | { error: string } {
  if (a.pubKey.length !== 33) return { error: 'pub_key must be a 33-byte compressed secp256k1 key' }
  let derived: string
  try { derived = addressFromPubKey(a.pubKey, prefix) } catch { return { error: 'invalid pub_key' } }
  if (derived !== a.address) return { error: `pub_key belongs to ${derived}, not ${a.address}` }
  // verifySecp256k1 hashes its message with sha256: the signed digest is sha256(doc).
  if (!verifySecp256k1(a.pubKey, doc, a.signature)) return { error: 'signature does not verify for this challenge' }
  return { address: a.address }
}
