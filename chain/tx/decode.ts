import { AuthInfo, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing'
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys'
import { SdkErrors } from '../errors.ts'
import type { MsgRoute } from '../module.ts'
import { SECP256K1_PUBKEY_TYPE, decodeBech32, sha256 } from './crypto.ts'

export const TX_LIMITS = {
  maxTxBytes: 1024 * 1024,
  maxMsgs: 64,
  maxSigners: 7,
}

export interface DecodedMsg {
  typeUrl: string
  msg: unknown
  route: MsgRoute
}

export interface DecodedTx {
  bytes: Uint8Array
  hash: Uint8Array
  raw: TxRaw
  body: TxBody
  authInfo: AuthInfo
  msgs: DecodedMsg[]
  /** Unique signers in order of first appearance; signer_infos and signatures follow this order. */
  signers: string[]
  /** The compressed key given in each signer_info (undefined when the tx relies on the stored key). */
  pubKeys: Array<Uint8Array | undefined>
  gasLimit: bigint
}

/**
 * Decodes and checks everything about a transaction that needs no state: framing, message
 * types, signer list, signature count, sign modes, fee shape. Throws a ChainError (code 2 for
 * bytes that are not a transaction).
 */
export function decodeTx(bytes: Uint8Array, routes: Map<string, MsgRoute>, opts: { simulate?: boolean; feeDenom: string; bech32Prefix: string }): DecodedTx {
  if (bytes.length > TX_LIMITS.maxTxBytes) throw SdkErrors.TxTooLarge.with(`tx is ${bytes.length} bytes, the limit is ${TX_LIMITS.maxTxBytes}`)
  let raw: TxRaw, body: TxBody, authInfo: AuthInfo
  try {
    raw = TxRaw.decode(bytes)
    body = TxBody.decode(raw.bodyBytes)
    authInfo = AuthInfo.decode(raw.authInfoBytes)
  } catch (err) {
    throw SdkErrors.TxDecode.with(`not a valid transaction (${(err as Error).message})`)
  }
  if (body.extensionOptions.length > 0 || body.nonCriticalExtensionOptions.length > 0) {
    throw SdkErrors.UnknownExtensionOptions.with('extension options are not supported')
  }
  if (body.messages.length === 0) throw SdkErrors.InvalidRequest.with('a transaction must hold at least one message')
  if (body.messages.length > TX_LIMITS.maxMsgs) throw SdkErrors.InvalidRequest.with(`a transaction may hold at most ${TX_LIMITS.maxMsgs} messages`)

  const msgs: DecodedMsg[] = []
  const signers: string[] = []
  for (const any of body.messages) {
    const route = routes.get(any.typeUrl)
    if (!route) throw SdkErrors.TxDecode.with(`unable to resolve type URL ${any.typeUrl}`)
    let msg: unknown
    try {
      msg = route.type.decode(any.value)
    } catch (err) {
      throw SdkErrors.TxDecode.with(`cannot decode ${any.typeUrl}: ${(err as Error).message}`)
    }
    for (const s of route.signers(msg)) {
      checkAddress(s, opts.bech32Prefix)
      if (!signers.includes(s)) signers.push(s)
    }
    route.validate?.(msg)
    msgs.push({ typeUrl: any.typeUrl, msg, route })
  }
  if (signers.length > TX_LIMITS.maxSigners) throw SdkErrors.TooManySignatures.with(`${signers.length} signers, the limit is ${TX_LIMITS.maxSigners}`)
  if (raw.signatures.length === 0) throw SdkErrors.NoSignatures.with('the transaction carries no signature')
  if (raw.signatures.length !== signers.length || authInfo.signerInfos.length !== signers.length) {
    throw SdkErrors.Unauthorized.with(
      `wrong number of signers; expected ${signers.length}, got ${authInfo.signerInfos.length} signer infos and ${raw.signatures.length} signatures`,
    )
  }
  const pubKeys: Array<Uint8Array | undefined> = []
  for (const info of authInfo.signerInfos) {
    const mode = info.modeInfo?.single?.mode
    if (!opts.simulate && mode !== SignMode.SIGN_MODE_DIRECT) throw SdkErrors.NotSupported.with('only SIGN_MODE_DIRECT single signatures are supported')
    if (info.publicKey) {
      if (info.publicKey.typeUrl !== SECP256K1_PUBKEY_TYPE) throw SdkErrors.InvalidPubKey.with(`unsupported key type ${info.publicKey.typeUrl}`)
      let key: Uint8Array
      try {
        key = PubKey.decode(info.publicKey.value).key
      } catch {
        throw SdkErrors.InvalidPubKey.with('undecodable secp256k1 public key')
      }
      if (key.length !== 33) throw SdkErrors.InvalidPubKey.with(`secp256k1 public key must be 33 bytes, got ${key.length}`)
      pubKeys.push(key)
    } else {
      pubKeys.push(undefined)
    }
  }
  const fee = authInfo.fee
  const gasLimit = fee?.gasLimit ?? 0n
  if (!opts.simulate) {
    if (gasLimit <= 0n) throw SdkErrors.InvalidGasLimit.with('gas limit must be positive')
    if (gasLimit > 100_000_000_000n) throw SdkErrors.InvalidGasLimit.with('gas limit too large')
  }
  for (const c of fee?.amount ?? []) {
    if (c.denom !== opts.feeDenom) throw SdkErrors.InvalidCoins.with(`fees are paid in ${opts.feeDenom}, not ${c.denom}`)
    if (!/^\d{1,40}$/.test(c.amount)) throw SdkErrors.InvalidCoins.with(`invalid fee amount ${c.amount}`)
  }
  if (fee?.payer || fee?.granter) throw SdkErrors.NotSupported.with('fee payer and fee granter are not supported')
  return { bytes, hash: sha256(bytes), raw, body, authInfo, msgs, signers, pubKeys, gasLimit }
}

export function checkAddress(address: string, prefix: string): Uint8Array {
  let data: Uint8Array, p: string
  try {
    ;({ prefix: p, data } = decodeBech32(address))
  } catch (err) {
    throw SdkErrors.InvalidAddress.with(`invalid address ${JSON.stringify(address)}`)
  }
  if (p !== prefix) throw SdkErrors.InvalidAddress.with(`address ${address} has prefix ${p}, expected ${prefix}`)
  if (data.length !== 20 && data.length !== 32) throw SdkErrors.InvalidAddress.with(`address ${address} has ${data.length} bytes`)
  return data
}
