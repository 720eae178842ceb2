import { PubKey as Secp256k1PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys'
import { AuthInfo, SignDoc, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { Context, QueryContext } from '../../chain/context.ts'
import { genesisObject, mergeParams, toGenesisJSON } from '../../chain/genesis.ts'
import type { ValidatorUpdate } from '../../chain/module.ts'
import { SECP256K1_PUBKEY_TYPE, addressFromPubKey, verifySecp256k1 } from '../../chain/tx/crypto.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { GenesisState } from '../../proto/gen/beryl/validator/v1/genesis.ts'
import { MsgCreateValidator } from '../../proto/gen/beryl/validator/v1/tx.ts'
import { Params } from '../../proto/gen/beryl/validator/v1/types.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { MODULE, ValidatorErrors } from './errors.ts'
import { consensusAddress, type ValidatorKeeper } from './keeper.ts'
import { validateCreateValidator } from './msgs.ts'
import { DEFAULT_PARAMS, validateParams } from './params.ts'

export const CREATE_VALIDATOR_URL = '/beryl.validator.v1.MsgCreateValidator'

/**
 * A genesis transaction (gentx): a TxRaw holding one MsgCreateValidator, signed by its account for
 * `chainId` with account number 0 and sequence 0, as Cosmos' `gentx` signs offline. Returns the
 * message once its signature checks out.
 */
export function verifyGenTx(txBytes: Uint8Array, chainId: string): MsgCreateValidator {
  const bad = (why: string) => ValidatorErrors.InvalidGenTx.with(why)
  let raw: TxRaw, body: TxBody, auth: AuthInfo
  try {
    raw = TxRaw.decode(txBytes)
    body = TxBody.decode(raw.bodyBytes)
    auth = AuthInfo.decode(raw.authInfoBytes)
  } catch (err) {
    throw bad(`undecodable: ${(err as Error).message}`)
  }
  if (body.messages.length !== 1 || body.messages[0]!.typeUrl !== CREATE_VALIDATOR_URL) throw bad('a gentx holds exactly one MsgCreateValidator')
  const msg = MsgCreateValidator.decode(body.messages[0]!.value)
  validateCreateValidator(msg)
  const signer = auth.signerInfos[0]
  if (auth.signerInfos.length !== 1 || raw.signatures.length !== 1 || !signer?.publicKey || signer.publicKey.typeUrl !== SECP256K1_PUBKEY_TYPE) {
    throw bad('a gentx has one secp256k1 signer')
  }
  const key = Secp256k1PubKey.decode(signer.publicKey.value).key
  if (addressFromPubKey(key, BECH32_PREFIX) !== msg.account) throw bad(`signed by another key than ${msg.account}'s`)
  if (signer.sequence !== 0n) throw bad('a gentx is signed with sequence 0')
  const signBytes = SignDoc.encode({ bodyBytes: raw.bodyBytes, authInfoBytes: raw.authInfoBytes, chainId, accountNumber: 0n }).finish()
  if (!verifySecp256k1(key, signBytes, raw.signatures[0]!)) throw bad(`signature of ${msg.account} does not verify for chain ${chainId}`)
  return msg
}

/**
 * `app_state.validator`: params, validators (bonds in the `validator` module account), unbonding
 * entries, signing infos, the last active set, and the ceremony's gen_txs (applied last, moving
 * each self-bond out of its account's genesis balance). Returns the validator set for InitChain.
 */
export async function initValidatorGenesis(
  keeper: ValidatorKeeper,
  ctx: Context,
  state: unknown,
  apply: (ctx: Context, m: MsgCreateValidator) => void,
): Promise<ValidatorUpdate[]> {
  const raw = genesisObject(GenesisState, state, MODULE)
  const params = mergeParams(Params, DEFAULT_PARAMS, raw.params as Record<string, unknown> | undefined, MODULE)
  validateParams(params)
  keeper.setParams(ctx, params)
  const g = GenesisState.fromJSON({ ...raw, params: undefined })
  for (const v of g.validators) {
    checkAddress(v.account, BECH32_PREFIX)
    keeper.importValidator(ctx, v)
  }
  for (const e of g.unbonding) {
    checkAddress(e.account, BECH32_PREFIX)
    keeper.importUnbonding(ctx, e)
  }
  for (const s of g.signingInfos) {
    const v = keeper.getValidator(ctx, s.account)
    if (!v) throw new Error(`validator genesis: signing info for unknown validator ${s.account}`)
    keeper.importSigningInfo(ctx, consensusAddress(v.consensusPubkey), s)
  }
  for (const [i, tx] of g.genTxs.entries()) {
    let m: MsgCreateValidator
    try {
      m = verifyGenTx(Buffer.from(tx, 'base64'), ctx.block.chainId)
      apply(ctx, m)
    } catch (err) {
      throw new Error(`gen_txs[${i}]: ${(err as Error).message}`)
    }
  }
  // The set CometBFT starts with: recomputed from the bonds (an export's active_set is what the
  // old chain's CometBFT ran; the new chain starts from this one).
  const set = await keeper.computeActiveSet(ctx)
  keeper.setActiveSet(ctx, set)
  return set.map((v) => ({ ed25519PubKey: v.consensusPubkey, power: v.power }))
}

export async function exportValidatorGenesis(keeper: ValidatorKeeper, ctx: QueryContext): Promise<unknown> {
  const s = await keeper.exportState(ctx)
  return toGenesisJSON(GenesisState, { params: keeper.params(ctx), ...s, genTxs: [] })
}
