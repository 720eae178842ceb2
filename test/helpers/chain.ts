import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DirectSecp256k1HdWallet, DirectSecp256k1Wallet } from '@cosmjs/proto-signing'
import { createHash } from 'node:crypto'
import { SigningStargateClient } from '@cosmjs/stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { BerylApp } from '../../chain/app.ts'
import { CommittedStore } from '../../chain/store/leveldb.ts'
import { parseGasPrice } from '../../chain/tx/ante.ts'
import { BECH32_PREFIX, DENOM, berylModules } from '../../modules/index.ts'
import { berylRegistry } from '../../sdk/index.ts'

export const CHAIN_ID = 'beryl-unit-1'

// Fixed mnemonics: the fixtures must be identical on every run and machine.
export const MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'legal winner thank year wave sausage worth useful legal winner thank yellow',
  'letter advice cage absurd amount doctor acoustic avoid letter advice cage above',
]

export interface Wallet {
  address: string
  accountNumber: bigint
  sign(msgs: unknown[], sequence: number, opts?: { gas?: string; fee?: string; memo?: string; feeDenom?: string }): Promise<Uint8Array>
}

export async function wallets(count = 3): Promise<Wallet[]> {
  const out: Wallet[] = []
  for (let i = 0; i < count; i++) {
    // The first ones from well-known mnemonics, the rest from fixed keys.
    const w =
      i < MNEMONICS.length
        ? await DirectSecp256k1HdWallet.fromMnemonic(MNEMONICS[i]!, { prefix: BECH32_PREFIX })
        : await DirectSecp256k1Wallet.fromKey(createHash('sha256').update(`beryl-fixture-${i}`).digest(), BECH32_PREFIX)
    const address = (await w.getAccounts())[0]!.address
    const signer = await SigningStargateClient.offline(w, { registry: berylRegistry() })
    out.push({
      address,
      accountNumber: 0n,
      async sign(msgs, sequence, opts = {}) {
        const fee = { amount: [{ denom: opts.feeDenom ?? DENOM, amount: opts.fee ?? '10000' }], gas: opts.gas ?? '200000' }
        const tx = await signer.sign(address, msgs as never, fee, opts.memo ?? '', { accountNumber: this.accountNumber, sequence, chainId: CHAIN_ID })
        return TxRaw.encode(tx).finish()
      },
    })
  }
  // Genesis assigns account numbers in address order (tests put exactly these accounts in genesis).
  const sorted = [...out].sort((a, b) => (a.address < b.address ? -1 : 1))
  sorted.forEach((w, i) => {
    w.accountNumber = BigInt(i)
  })
  return out
}

export const send = (from: string, to: string, amount: string) => ({
  typeUrl: '/cosmos.bank.v1beta1.MsgSend',
  value: { fromAddress: from, toAddress: to, amount: [{ denom: DENOM, amount }] },
})

export interface BlockOptions {
  timeSeconds?: bigint
}

export async function openApp(dir?: string): Promise<{ app: BerylApp; store: CommittedStore; dir: string; close(): Promise<void> }> {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-unit-'))
  const store = await CommittedStore.open(path.join(d, 'application.db'))
  const { modules, ante } = berylModules()
  const app = new BerylApp(store, { modules, ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM, minGasPrice: parseGasPrice('0.025uberyl') })
  return {
    app,
    store,
    dir: d,
    async close() {
      await store.close()
      if (!dir) fs.rmSync(d, { recursive: true, force: true })
    },
  }
}

export function genesisState(addresses: string[], amount = '1000000000', extra: Record<string, unknown> = {}) {
  return Buffer.from(
    JSON.stringify({
      ...extra,
      auth: { accounts: addresses.map((address) => ({ address })) },
      bank: { balances: addresses.map((address) => ({ address, coins: [{ denom: DENOM, amount }] })) },
    }),
  )
}

export async function initChain(app: BerylApp, addresses: string[], extra: Record<string, unknown> = {}) {
  return app.initChain({
    time: { seconds: 1_700_000_000n, nanos: 0 },
    chainId: CHAIN_ID,
    consensusParams: { block: { maxBytes: 22020096n, maxGas: 100_000_000n } } as never,
    validators: [],
    appStateBytes: genesisState(addresses, '1000000000', extra),
    initialHeight: 1n,
  })
}

export function blockRequest(height: bigint, txs: Uint8Array[], opts: BlockOptions = {}) {
  return {
    txs,
    decidedLastCommit: { round: 0, votes: [] },
    proposedLastCommit: { round: 0, votes: [] },
    misbehavior: [],
    hash: new Uint8Array(32).fill(Number(height % 250n)),
    height,
    time: { seconds: opts.timeSeconds ?? 1_700_000_000n + height, nanos: 0 },
    nextValidatorsHash: new Uint8Array(32),
    proposerAddress: new Uint8Array(20).fill(7),
  }
}

/**
 * Runs signed blocks on an app in process: each message is signed by its wallet with that
 * wallet's next sequence (kept here), put in the next block at time `t` (default: one second after
 * the last), finalized and committed. A tx refused for its sequence does not use one up.
 */
export class BlockRunner {
  height = 0n
  private readonly seq = new Map<string, number>()
  /** The last block's own events (begin and end block: dispatch, timeouts, seeds). */
  blockEvents: Array<{ type: string; attributes?: Array<{ key: string; value: string }> }> = []

  constructor(
    readonly app: BerylApp,
    public now: bigint,
    private readonly tx: { gas: string; fee?: string } = { gas: '2000000', fee: '100000' },
  ) {}

  /** `m` is one message, or an array of the messages of one tx. */
  async run(txs: Array<[Wallet, unknown]>, t?: bigint) {
    this.now = t ?? this.now + 1n
    const signed: Uint8Array[] = []
    const used: Array<[string, number]> = []
    for (const [who, m] of txs) {
      const s = this.seq.get(who.address) ?? 0
      signed.push(await who.sign(Array.isArray(m) ? m : [m], s, this.tx))
      this.seq.set(who.address, s + 1)
      used.push([who.address, s])
    }
    const res = await this.app.finalizeBlock(blockRequest(++this.height, signed, { timeSeconds: this.now }))
    this.blockEvents = res.events ?? []
    await this.app.commit()
    res.txResults!.forEach((r, i) => {
      if (r.log?.includes('incorrect account sequence')) this.seq.set(used[i]![0], used[i]![1])
    })
    return res.txResults!
  }

  /** The sequence the wallet's next transaction gets. */
  sequence(address: string): number {
    return this.seq.get(address) ?? 0
  }

  /** A runner for `app`, a chain imported from this one's export: the same accounts' sequences, from `height` at `now`. */
  continueOn(app: BerylApp, height: bigint, now: bigint): BlockRunner {
    const next = new BlockRunner(app, now, this.tx)
    next.height = height
    for (const [a, s] of this.seq) next.seq.set(a, s)
    return next
  }

  /** A query on committed state; the raw response (code, log, value). */
  query(path: string, data: Uint8Array) {
    return this.app.query({ path, data, height: 0n, prove: false })
  }

  /** A query that must succeed: its value. */
  async value(path: string, data: Uint8Array): Promise<Uint8Array> {
    const r = await this.query(path, data)
    if (r.code) throw new Error(r.log)
    return r.value!
  }
}
