import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin'
import { SignDoc } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { SdkErrors } from '../errors.ts'
import { event } from '../events.ts'
import type { Context } from '../context.ts'
import { addressFromPubKey, verifySecp256k1 } from './crypto.ts'
import type { DecodedTx } from './decode.ts'

export interface Account {
  address: string
  accountNumber: bigint
  sequence: bigint
  pubKey?: Uint8Array
}

export interface AuthParams {
  maxMemoCharacters: bigint
  txSigLimit: bigint
  txSizeCostPerByte: bigint
  sigVerifyCostSecp256k1: bigint
}

/** What the ante checks need from the auth and bank modules (injected: the runtime imports no module). */
export interface AnteKeepers {
  authParams(ctx: Context): AuthParams
  getAccount(ctx: Context, address: string): Account | undefined
  setAccount(ctx: Context, account: Account): void
  /** Moves the fee from the payer to the fee collector, emitting the bank's events. */
  deductFee(ctx: Context, payer: string, fee: Coin[]): void
}

/** A minimum gas price as an exact fraction: fee >= ceil(gas * num / den). */
export interface GasPrice {
  num: bigint
  den: bigint
  denom: string
}

export function parseGasPrice(s: string): GasPrice {
  const m = /^(\d+)(?:\.(\d{1,18}))?([a-z][a-z0-9/]{1,127})$/.exec(s.trim())
  if (!m) throw new Error(`invalid gas price ${JSON.stringify(s)}: expected e.g. 0.025uberyl`)
  const frac = m[2] ?? ''
  return { num: BigInt(m[1]! + frac), den: 10n ** BigInt(frac.length), denom: m[3]! }
}

export function requiredFee(gas: bigint, price: GasPrice): bigint {
  return (gas * price.num + price.den - 1n) / price.den
}

export interface AnteOptions {
  keepers: AnteKeepers
  feeDenom?: string
  bech32Prefix: string
  minGasPrice?: GasPrice
}

/**
 * The checks every transaction passes before its messages run, in the SDK's order: memo,
 * timeout height, minimum fee (CheckTx only: it is a node-local policy), size gas, each signer's
 * account, key, sequence and signature, then the fee is taken and sequences move on.
 */
export function runAnte(ctx: Context, tx: DecodedTx, opts: AnteOptions): void {
  const { keepers } = opts
  const params = keepers.authParams(ctx)
  const mode = ctx.mode
  const simulate = mode === 'simulate'

  if (BigInt([...tx.body.memo].length) > params.maxMemoCharacters) {
    throw SdkErrors.MemoTooLarge.with(`maximum number of characters is ${params.maxMemoCharacters} but received ${[...tx.body.memo].length} characters`)
  }
  if (tx.body.timeoutHeight > 0n && ctx.block.height > tx.body.timeoutHeight) {
    throw SdkErrors.TxTimeoutHeight.with(`block height: ${ctx.block.height}, timeout height: ${tx.body.timeoutHeight}`)
  }
  if (BigInt(tx.signers.length) > params.txSigLimit) {
    throw SdkErrors.TooManySignatures.with(`signatures: ${tx.signers.length}, limit: ${params.txSigLimit}`)
  }
  const fee = tx.authInfo.fee?.amount ?? []
  if ((mode === 'check' || mode === 'recheck') && opts.minGasPrice) {
    const need = requiredFee(tx.gasLimit, opts.minGasPrice)
    const have = fee.filter((c) => c.denom === opts.minGasPrice!.denom).reduce((a, c) => a + BigInt(c.amount), 0n)
    if (have < need) {
      throw SdkErrors.InsufficientFee.with(`insufficient fees; got: ${have}${opts.minGasPrice.denom} required: ${need}${opts.minGasPrice.denom}`)
    }
  }
  ctx.gas.consume(params.txSizeCostPerByte * BigInt(tx.bytes.length), 'txSize')
  if (simulate) {
    // Simulated txs come without signatures and usually without a fee (cosmjs sends both
    // empty): charge what the signed tx will carry, so "auto" gas covers the real one.
    const missing = tx.raw.signatures.filter((s) => s.length === 0).length * 64 + (fee.length === 0 ? 32 : 0)
    ctx.gas.consume(params.txSizeCostPerByte * BigInt(missing), 'txSize (simulated signatures and fee)')
  }

  const accounts: Account[] = []
  for (let i = 0; i < tx.signers.length; i++) {
    const address = tx.signers[i]!
    const acc = keepers.getAccount(ctx, address)
    if (!acc) throw SdkErrors.UnknownAddress.with(`account ${address} does not exist`)
    const given = tx.pubKeys[i]
    let key = acc.pubKey
    if (given) {
      if (addressFromPubKey(given, opts.bech32Prefix) !== address) {
        throw SdkErrors.InvalidPubKey.with(`pubKey does not match signer address ${address} with signer index: ${i}`)
      }
      if (key && Buffer.compare(Buffer.from(key), Buffer.from(given)) !== 0) {
        throw SdkErrors.InvalidPubKey.with(`the key given for ${address} differs from the account's key`)
      }
      key = given
    }
    if (!key && !simulate)
      throw SdkErrors.InvalidPubKey.with(`pubkey on account ${address} is not set; the first transaction of an account must carry its public key`)
    const seq = tx.authInfo.signerInfos[i]!.sequence
    if (seq !== acc.sequence) {
      throw SdkErrors.WrongSequence.with(`account sequence mismatch, expected ${acc.sequence}, got ${seq}`)
    }
    ctx.gas.consume(params.sigVerifyCostSecp256k1, 'ante verify: secp256k1')
    if (!simulate) {
      const signBytes = SignDoc.encode({
        bodyBytes: tx.raw.bodyBytes,
        authInfoBytes: tx.raw.authInfoBytes,
        chainId: ctx.block.chainId,
        accountNumber: acc.accountNumber,
      }).finish()
      if (!verifySecp256k1(key!, signBytes, tx.raw.signatures[i]!)) {
        throw SdkErrors.Unauthorized.with(
          `signature verification failed; please verify account number (${acc.accountNumber}), sequence (${acc.sequence}) and chain-id (${ctx.block.chainId})`,
        )
      }
    }
    accounts.push({ ...acc, pubKey: key })
  }

  const payer = tx.signers[0]!
  const positive = fee.filter((c) => BigInt(c.amount) > 0n)
  if (positive.length > 0) {
    keepers.deductFee(ctx, payer, positive)
  } else if (simulate && opts.feeDenom) {
    // Charge the gas of the fee transfer the real tx will make (on a throwaway state).
    try {
      keepers.deductFee(ctx, payer, [{ denom: opts.feeDenom, amount: '1' }])
    } catch (err) {
      if (!SdkErrors.InsufficientFunds.is(err)) throw err
    }
  }
  ctx.emit(event('tx', { fee: positive.map((c) => `${c.amount}${c.denom}`).join(','), fee_payer: payer }))

  for (const acc of accounts) {
    ctx.emit(event('tx', { acc_seq: `${acc.address}/${acc.sequence}` }))
    keepers.setAccount(ctx, { ...acc, sequence: acc.sequence + 1n })
  }
  for (const sig of tx.raw.signatures) ctx.emit(event('tx', { signature: Buffer.from(sig).toString('base64') }))
}
