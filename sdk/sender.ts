import { encodeSecp256k1Pubkey } from '@cosmjs/amino'
import { type EncodeObject, type OfflineDirectSigner, type Registry, encodePubkey, makeAuthInfoBytes, makeSignDoc } from '@cosmjs/proto-signing'
import { fromBase64 } from '@cosmjs/encoding'
import { GasPrice, calculateFee } from '@cosmjs/stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'

/** CometBFT's CheckTx answer for a broadcast transaction. */
export interface BroadcastResult {
  code: number
  codespace: string
  log: string
  txhash: string
}

export interface TxSenderOptions {
  signer: OfflineDirectSigner
  address: string
  chainId: string
  registry: Registry
  /** The account's number and next sequence, from chain state (undefined: the account does not exist yet). */
  account(): Promise<{ accountNumber: bigint; sequence: bigint } | undefined>
  /** Puts signed tx bytes in a mempool: CometBFT RPC, or a gateway. */
  broadcast(tx: Uint8Array): Promise<BroadcastResult>
  /** e.g. "0.025uberyl". */
  gasPrice: string
}

/** The Cosmos code for "account sequence mismatch". */
const WRONG_SEQUENCE = 32

/**
 * Signs transactions locally (SIGN_MODE_DIRECT) and hands the bytes to any broadcaster, keeping
 * the account's sequence itself so that several transactions can wait in the mempool at once. A
 * sequence mismatch (another client used the key, or a tx was dropped) re-reads the account and
 * tries once more. One transaction is signed at a time.
 */
export class TxSender {
  private sequence?: bigint
  private accountNumber?: bigint
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly o: TxSenderOptions) {}

  send(msgs: EncodeObject[], gas: number, memo = ''): Promise<BroadcastResult> {
    const run = this.queue.then(() => this.sendNow(msgs, gas, memo))
    this.queue = run.catch(() => {})
    return run
  }

  /** Forgets the cached sequence (e.g. after a tx was evicted from the mempool). */
  resync(): void {
    this.sequence = undefined
  }

  private async sendNow(msgs: EncodeObject[], gas: number, memo: string): Promise<BroadcastResult> {
    for (let attempt = 0; ; attempt++) {
      if (this.sequence === undefined || this.accountNumber === undefined) {
        const acc = await this.o.account()
        if (!acc) throw new Error(`account ${this.o.address} does not exist on chain yet: fund it first`)
        this.accountNumber = acc.accountNumber
        this.sequence = acc.sequence
      }
      const tx = await this.sign(msgs, gas, memo, this.accountNumber, this.sequence)
      const res = await this.o.broadcast(tx)
      if (res.code === WRONG_SEQUENCE && !res.codespace.startsWith('gateway') && attempt === 0) {
        this.sequence = undefined
        continue
      }
      if (res.code === 0) this.sequence++
      return res
    }
  }

  private async sign(msgs: EncodeObject[], gas: number, memo: string, accountNumber: bigint, sequence: bigint): Promise<Uint8Array> {
    const account = (await this.o.signer.getAccounts()).find((a) => a.address === this.o.address)
    if (!account) throw new Error(`the signer holds no key for ${this.o.address}`)
    const fee = calculateFee(gas, GasPrice.fromString(this.o.gasPrice))
    const bodyBytes = this.o.registry.encodeTxBody({ messages: msgs, memo })
    const authInfoBytes = makeAuthInfoBytes(
      [{ pubkey: encodePubkey(encodeSecp256k1Pubkey(account.pubkey)), sequence }],
      fee.amount,
      Number(fee.gas),
      undefined,
      undefined,
    )
    const signDoc = makeSignDoc(bodyBytes, authInfoBytes, this.o.chainId, Number(accountNumber))
    const { signature, signed } = await this.o.signer.signDirect(this.o.address, signDoc)
    return TxRaw.encode({ bodyBytes: signed.bodyBytes, authInfoBytes: signed.authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish()
  }
}
