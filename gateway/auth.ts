import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { fromBase64 } from '@cosmjs/encoding'
import { SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { Auth } from '../proto/gen/beryl/gateway/v1/gateway.ts'
import { addressFromPubKey, verifySecp256k1 } from '../chain/tx/crypto.ts'

export const WORKER_PROTOCOL = '/beryl/worker/1'
export const RESULT_PROTOCOL = '/beryl/result/1'

/**
 * The document a client signs to prove control of an account on one stream: the protocol, the
 * chain id, its own peer id and the gateway's fresh nonce, NUL-separated. Binding the peer id stops
 * a proof from being relayed to another connection; the nonce stops it being replayed.
 */
export function authDocument(protocol: string, chainId: string, peerId: string, nonce: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(protocol), Uint8Array.of(0), Buffer.from(chainId), Uint8Array.of(0), Buffer.from(peerId), Uint8Array.of(0), nonce])
}

/**
 * The bytes actually signed: a SIGN_MODE_DIRECT SignDoc that carries the document as its body and
 * has no auth info. Any Cosmos direct signer (a cosmjs wallet, a keyring) can make it, and it can
 * never be a valid transaction: a tx without signer infos or fee is refused by every ante handler.
 */
export function authSignBytes(doc: Uint8Array, chainId: string): Uint8Array {
  return SignDoc.encode({ bodyBytes: doc, authInfoBytes: new Uint8Array(), chainId, accountNumber: 0n }).finish()
}

/** Makes the Auth message with a cosmjs direct signer. */
export async function signAuth(signer: OfflineDirectSigner, address: string, doc: Uint8Array, chainId: string): Promise<Auth> {
  const account = (await signer.getAccounts()).find((a) => a.address === address)
  if (!account) throw new Error(`the signer holds no key for ${address}`)
  const { signature } = await signer.signDirect(address, SignDoc.decode(authSignBytes(doc, chainId)))
  return { address, pubKey: account.pubkey, signature: fromBase64(signature.signature) }
}

/** Checks an Auth reply; returns the proven address or a reason. */
export function verifyAuth(a: Auth, doc: Uint8Array, chainId: string, prefix: string): { address: string } | { error: string } {
  if (a.pubKey.length !== 33) return { error: 'pub_key must be a 33-byte compressed secp256k1 key' }
  let derived: string
  try {
    derived = addressFromPubKey(a.pubKey, prefix)
  } catch {
    return { error: 'invalid pub_key' }
  }
  if (derived !== a.address) return { error: `pub_key belongs to ${derived}, not ${a.address}` }
  // verifySecp256k1 hashes its message with sha256, as SIGN_MODE_DIRECT does.
  if (!verifySecp256k1(a.pubKey, authSignBytes(doc, chainId), a.signature)) return { error: 'signature does not verify for this challenge' }
  return { address: a.address }
}
