import { createHash, createPrivateKey, sign as cryptoSign } from 'node:crypto'
import { DirectSecp256k1HdWallet, DirectSecp256k1Wallet, type OfflineDirectSigner } from '@cosmjs/proto-signing'
import { SigningStargateClient } from '@cosmjs/stargate'
import { QueryBalanceRequest, QueryBalanceResponse, QuerySupplyOfRequest, QuerySupplyOfResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { BerylApp } from '../../../chain/app.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { BECH32_PREFIX, DENOM } from '../../../modules/index.ts'
import { consensusAddress } from '../../../modules/validator/index.ts'
import { ecvrfPublicKey } from '../../../modules/vss/index.ts'
import { QueryPoolsResponse, QueryValidatorRequest, QueryValidatorResponse, QueryActiveSetResponse } from '../../../proto/gen/beryl/validator/v1/query.ts'
import { berylRegistry } from '../../../sdk/index.ts'
import { CHAIN_ID, MNEMONICS, blockRequest, genesisState, openApp, wallets, type Wallet } from '../../helpers/chain.ts'

export const T0 = 1_700_000_000n
export const BERYL = 1_000_000n
/** A fixed ed25519 consensus key per name: the public key of the seed sha256("cons-" ‖ name). */
export const consSecret = (name: string) => createHash('sha256').update(`cons-${name}`).digest()
export const consKey = (name: string) => ecvrfPublicKey(consSecret(name)) // an ECVRF public key is the ed25519 key of the same seed
/** Validator `name`'s ed25519 signature (what CometBFT signs votes and extensions with). */
export const consSign = (name: string, msg: Uint8Array) =>
  new Uint8Array(
    cryptoSign(
      null,
      msg,
      createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), consSecret(name)]), format: 'der', type: 'pkcs8' }),
    ),
  )
/** A validator's ECVRF secret key and the public key it registers (the chain seed's vote extensions). */
export const vrfSecret = (name: string) => createHash('sha256').update(`vrf-${name}`).digest()
export const vrfKey = (name: string) => ecvrfPublicKey(vrfSecret(name))

// Key derivation from a mnemonic is slow in JS: every test of a file shares the same wallets.
const signers = new Map<number, Promise<OfflineDirectSigner>>()
/** A signer for wallet i of the fixtures (the same keys as `wallets()`). */
function signerOf(i: number): Promise<OfflineDirectSigner> {
  if (!signers.has(i)) {
    signers.set(
      i,
      i < MNEMONICS.length
        ? DirectSecp256k1HdWallet.fromMnemonic(MNEMONICS[i]!, { prefix: BECH32_PREFIX })
        : DirectSecp256k1Wallet.fromKey(createHash('sha256').update(`beryl-fixture-${i}`).digest(), BECH32_PREFIX),
    )
  }
  return signers.get(i)!
}
const walletSets = new Map<number, Promise<Wallet[]>>()
/** The fixtures' first `count` wallets, derived once per file. */
export function sharedWallets(count: number): Promise<Wallet[]> {
  if (!walletSets.has(count)) walletSets.set(count, wallets(count))
  return walletSets.get(count)!
}

/** A gentx as `beryld genesis gentx` writes it: one MsgCreateValidator, account number 0, sequence 0, no fee. */
export async function genTx(i: number, address: string, selfBond: bigint, name = `v${i}`, chainId = CHAIN_ID): Promise<string> {
  const signer = await SigningStargateClient.offline(await signerOf(i), { registry: berylRegistry() })
  const msg = {
    typeUrl: '/beryl.validator.v1.MsgCreateValidator',
    value: {
      account: address,
      moniker: name,
      details: '',
      consensusPubkey: consKey(name),
      vrfPubkey: vrfKey(name),
      selfBond: selfBond.toString(),
      commissionPpm: 50_000,
    },
  }
  const tx = await signer.sign(address, [msg], { amount: [], gas: '200000' }, '', { accountNumber: 0n, sequence: 0, chainId })
  return Buffer.from(TxRaw.encode(tx).finish()).toString('base64')
}

export interface Vote {
  name: string
  power: bigint
  signed: boolean
}
export interface Evidence {
  name: string
  power: bigint
  height: bigint
  timeSeconds: bigint
}

/** A chain of `count` funded wallets, driven block by block with chosen votes and evidence. */
export function validatorChain() {
  const env = {} as { app: BerylApp; close: () => Promise<void>; w: Wallet[]; height: bigint; now: bigint; seq: Map<string, number> }

  async function start(count: number, validatorGenesis: Record<string, unknown> = {}, balance = '100000000000') {
    env.w = await sharedWallets(count)
    ;({ app: env.app, close: env.close } = await openApp())
    env.height = 0n
    env.now = T0
    env.seq = new Map()
    return env.app.initChain({
      time: { seconds: T0, nanos: 0 },
      chainId: CHAIN_ID,
      consensusParams: { block: { maxBytes: 22020096n, maxGas: 100_000_000n } } as never,
      validators: [],
      appStateBytes: genesisState(
        env.w.map((x) => x.address),
        balance,
        { validator: validatorGenesis },
      ),
      initialHeight: 1n,
    })
  }

  /** Runs one block: `txs` signed in order, the last commit's `votes`, and `evidence`. */
  async function block(txs: Array<[Wallet, unknown]> = [], opts: { votes?: Vote[]; evidence?: Evidence[]; dt?: bigint; fee?: string } = {}) {
    env.now += opts.dt ?? 1n
    const signed: Uint8Array[] = []
    for (const [who, m] of txs) {
      const s = env.seq.get(who.address) ?? 0
      signed.push(await who.sign([m], s, { gas: '400000', fee: opts.fee ?? '10000' }))
      env.seq.set(who.address, s + 1)
    }
    const req = {
      ...blockRequest(++env.height, signed, { timeSeconds: env.now }),
      decidedLastCommit: {
        round: 0,
        votes: (opts.votes ?? []).map((v) => ({ validator: { address: consensusAddress(consKey(v.name)), power: v.power }, blockIdFlag: v.signed ? 2 : 1 })),
      },
      misbehavior: (opts.evidence ?? []).map((e) => ({
        type: 1,
        validator: { address: consensusAddress(consKey(e.name)), power: e.power },
        height: e.height,
        time: { seconds: e.timeSeconds, nanos: 0 },
        totalVotingPower: e.power,
      })),
    }
    const res = await env.app.finalizeBlock(req)
    await env.app.commit()
    return res
  }

  const query = async (path: string, data: Uint8Array = new Uint8Array()) => env.app.query({ path, data, height: 0n, prove: false })
  const validator = async (address: string) => {
    const r = await query('/beryl.validator.v1.Query/Validator', QueryValidatorRequest.encode({ address }).finish())
    return r.code === 0 ? QueryValidatorResponse.decode(r.value!) : undefined
  }
  const activeSet = async () => QueryActiveSetResponse.decode((await query('/beryl.validator.v1.Query/ActiveSet')).value!)
  const pools = async () => QueryPoolsResponse.decode((await query('/beryl.validator.v1.Query/Pools')).value!)
  const balance = async (address: string) =>
    BigInt(
      QueryBalanceResponse.decode((await query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: DENOM }).finish())).value!)
        .balance!.amount,
    )
  const supply = async () =>
    BigInt(
      QuerySupplyOfResponse.decode((await query('/cosmos.bank.v1beta1.Query/SupplyOf', QuerySupplyOfRequest.encode({ denom: DENOM }).finish())).value!).amount!
        .amount,
    )
  const moduleBalance = (name: string) => balance(moduleAddress(name))

  const msg = (name: string, value: Record<string, unknown>) => ({ typeUrl: `/beryl.validator.v1.${name}`, value })
  const create = (who: Wallet, name: string, selfBond: bigint, extra: Record<string, unknown> = {}) =>
    [
      who,
      msg('MsgCreateValidator', {
        account: who.address,
        moniker: name,
        details: '',
        consensusPubkey: consKey(name),
        vrfPubkey: vrfKey(name),
        selfBond: selfBond.toString(),
        commissionPpm: 0,
        ...extra,
      }),
    ] as [Wallet, unknown]

  return { env, start, block, query, validator, activeSet, pools, balance, supply, moduleBalance, msg, create, close: () => env.close() }
}
