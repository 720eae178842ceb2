import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import type { Any } from 'cosmjs-types/google/protobuf/any'
import { Context, QueryContext, type BlockInfo } from '../chain/context.ts'
import { toChainError } from '../chain/errors.ts'
import { event, type Event } from '../chain/events.ts'
import { GasMeter } from '../chain/gas.ts'
import type { Module, MsgRoute, QueryRoute } from '../chain/module.ts'
import { CacheStore } from '../chain/store/cache.ts'
import { LtHash } from '../chain/store/lthash.ts'
import { addressFromPubKey } from '../chain/tx/crypto.ts'
import { BECH32_PREFIX, DENOM, berylModules, type BerylModules } from '../modules/index.ts'
import { OrderedStore } from './store.ts'

/** A participant's account: its key (so a recorded run can be signed and replayed) and address. */
export interface Identity {
  label: string
  address: string
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** A message as an agent writes it (the value is the message object, as cosmjs takes it). */
export interface SimMsg {
  typeUrl: string
  value: unknown
}

/** One transaction of the twin: one signer (who also pays the fee), one or more messages. */
export interface SimTx {
  signer: Identity
  msgs: SimMsg[]
  /** Set by the driver when the tx has run. */
  result?: SimTxResult
}

export interface SimTxResult {
  code: number
  codespace: string
  log: string
  gasUsed: bigint
  events: Event[]
  /** Decode or ante failure: nothing happened, not even the fee. */
  rejected: boolean
}

/** What a recorded block holds: enough to sign it and run it through the real ABCI app. */
export interface RecordedBlock {
  height: bigint
  timeSeconds: bigint
  hash: Uint8Array
  /** Each tx with the signer's account number and sequence when it ran (what its signature covers). */
  txs: Array<{ signer: string; msgs: Any[]; accountNumber: bigint; sequence: bigint }>
  appHash?: Uint8Array
}

export interface SimChainOptions {
  chainId: string
  /** Genesis app_state (the same JSON `beryld init` writes). */
  appState: Record<string, unknown>
  genesisTime: bigint
  /** Randomness of the simulated block hashes (the chain's randomness reads them). */
  seed: string
  /** Fee every tx pays (uberyl), as a real signed tx would. */
  txFee: bigint
  /** Gas limit of every tx (a real signed tx declares one). */
  txGas: bigint
  /** Compute the LtHash app hash of every block (costs ~2 SHAKE256 expansions per write). */
  appHash: boolean
  /** Keep every block's txs for replay. */
  record: boolean
  /** Wraps the modules before they are used (the scale mode swaps ECVRF for a hash; see sim/crypto.ts). */
  patchKeepers?: (m: BerylModules) => void
}

const BASE = 'baseapp/'
const PROPOSER = new Uint8Array(20).fill(7)
/** Consensus max gas in the genesis the replay passes to InitChain. */
export const SIM_MAX_GAS = 100_000_000n

// A run of 10 000 nodes makes 10 000 identities: libsecp256k1 (the native build chain/tx/crypto.ts verifies
// with) derives a key ~15× faster than noble; both give the same point, so noble stands in where it does not load.
const libsecp256k1 = (() => {
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as { publicKeyCreate(sk: Uint8Array, compressed: boolean): Uint8Array }
  } catch {
    return undefined
  }
})()
const publicKeyOf = (sk: Uint8Array): Uint8Array => (libsecp256k1 ? new Uint8Array(libsecp256k1.publicKeyCreate(sk, true)) : secp256k1.getPublicKey(sk, true))

export function identity(seed: string, label: string): Identity {
  const secretKey = new Uint8Array(createHash('sha256').update(`beryl-sim/${seed}/${label}`).digest())
  const publicKey = publicKeyOf(secretKey)
  return { label, address: addressFromPubKey(publicKey, BECH32_PREFIX), secretKey, publicKey }
}

/**
 * The digital twin's chain: Beryl's real modules (berylModules(), the same keepers, hooks, message
 * and query handlers the node runs) on an ordered in-memory store, executed block by block with a
 * simulated clock. It mirrors BerylApp's execution path (chain/app.ts, chain/tx/run.ts) minus
 * signatures: genesis as InitChain runs it; per block BeginBlock hooks, each tx (ante effects: the
 * fee and the signer's sequence, then its messages on an overlay that a failure drops), EndBlock
 * hooks; then the block is committed. Queries go through the modules' own query routes on the
 * committed state, as a client's would.
 */
export class SimChain {
  readonly store = new OrderedStore()
  readonly modules: BerylModules
  private readonly routes = new Map<string, MsgRoute>()
  private readonly queryRoutes = new Map<string, QueryRoute>()
  height = 0n
  time: bigint
  appHash: Uint8Array = new Uint8Array()
  private lt = new LtHash()
  readonly recorded: RecordedBlock[] = []
  /** Totals over the run (chain work). */
  readonly totals = { blocks: 0, txs: 0, failedTxs: 0, msgs: 0, gas: 0n, writes: 0 }

  constructor(readonly opts: SimChainOptions) {
    this.modules = berylModules()
    opts.patchKeepers?.(this.modules)
    for (const m of this.modules.modules) {
      for (const r of m.msgs ?? []) this.routes.set(r.typeUrl, r)
      for (const q of m.queries ?? []) this.queryRoutes.set(q.path, q)
    }
    this.time = opts.genesisTime
  }

  get mods(): Module[] {
    return this.modules.modules
  }

  /** InitChain: the runtime's own keys, then every module's genesis, in the app's module order. */
  async init(): Promise<void> {
    const s = this.store
    if (this.opts.appHash) s.beginJournal()
    s.set(Buffer.from(BASE + 'chain_id'), Buffer.from(this.opts.chainId, 'utf8'))
    s.set(Buffer.from(BASE + 'max_gas'), Buffer.from(String(SIM_MAX_GAS), 'ascii'))
    s.set(Buffer.from(BASE + 'initial_height'), Buffer.from('1', 'ascii'))
    const block = this.blockInfo(1n, this.opts.genesisTime, new Uint8Array())
    for (const m of this.mods) {
      const ctx = new Context(s, new GasMeter(undefined), block, 'genesis')
      await m.initGenesis?.(ctx, this.opts.appState[m.name])
    }
    if (this.opts.appHash) this.foldJournal()
  }

  private blockInfo(height: bigint, time: bigint, hash: Uint8Array): BlockInfo {
    return { chainId: this.opts.chainId, height, timeSeconds: time, timeNanos: 0, proposer: PROPOSER, hash, lastAppHash: this.appHash }
  }

  /** The simulated block hash at a height: a function of the run's seed only. */
  blockHash(height: bigint): Uint8Array {
    return new Uint8Array(createHash('sha256').update(`beryl-sim-block/${this.opts.seed}/${height}`).digest())
  }

  /** Folds the journal into the LtHash. Genesis does not set the app hash blocks see: the app's is empty until block 1 commits. */
  private foldJournal(): void {
    for (const c of this.store.endJournal()) {
      if (c.before !== undefined) this.lt.remove(c.key, c.before)
      if (c.after !== undefined) this.lt.add(c.key, c.after)
    }
  }

  /**
   * Runs one block at block time `time` with these txs (in order) and commits it. Returns the
   * events of the block (BeginBlock, every tx, EndBlock), each tx's result set on the tx.
   */
  async block(time: bigint, txs: SimTx[]): Promise<Event[]> {
    const height = ++this.height
    this.time = time
    const hash = this.blockHash(height)
    const block = this.blockInfo(height, time, hash)
    const s = this.store
    if (this.opts.appHash) s.beginJournal()
    const events: Event[] = []
    const hook = async (which: 'beginBlock' | 'endBlock') => {
      for (const m of this.mods) {
        const ctx = new Context(s, new GasMeter(undefined), block, 'deliver')
        if (which === 'beginBlock') await m.beginBlock?.(ctx, { lastCommit: [], misbehavior: [] })
        else await m.endBlock?.(ctx)
        events.push(...ctx.events)
      }
    }
    await hook('beginBlock')
    const rec: RecordedBlock | undefined = this.opts.record ? { height, timeSeconds: time, hash, txs: [] } : undefined
    for (const tx of txs) {
      const anys = tx.msgs.map((m) => this.encode(m))
      // What the tx's signature covers (its account number and sequence before it runs): read only when recording.
      const acc = rec && this.modules.ante.getAccount(new Context(this.store, new GasMeter(undefined), block, 'deliver'), tx.signer.address)
      tx.result = await this.deliver(block, tx, anys)
      events.push(...tx.result.events)
      rec?.txs.push({ signer: tx.signer.address, msgs: anys, accountNumber: acc?.accountNumber ?? 0n, sequence: acc?.sequence ?? 0n })
      this.totals.txs++
      this.totals.msgs += tx.msgs.length
      this.totals.gas += tx.result.gasUsed
      if (tx.result.code !== 0) this.totals.failedTxs++
    }
    await hook('endBlock')
    if (this.opts.appHash) {
      this.foldJournal()
      this.appHash = this.lt.digest()
    }
    if (rec) {
      rec.appHash = this.appHash
      this.recorded.push(rec)
    }
    this.totals.blocks++
    return events
  }

  private encode(m: SimMsg): Any {
    const route = this.routes.get(m.typeUrl)
    if (!route) throw new Error(`the twin has no route for ${m.typeUrl}`)
    const typed = route.type.fromPartial ? route.type.fromPartial(m.value) : m.value
    return { typeUrl: m.typeUrl, value: route.type.encode(typed as never).finish() }
  }

  /** chain/tx/run.ts's deliver path, with the signature check left out (the twin's txs are its own). */
  private async deliver(block: BlockInfo, tx: SimTx, anys: Any[]): Promise<SimTxResult> {
    const meter = new GasMeter(this.opts.txGas)
    const fail = (err: unknown, rejected: boolean, events: Event[] = []): SimTxResult => {
      const e = toChainError(err)
      return { code: e.code, codespace: e.codespace, log: e.message, gasUsed: meter.consumed, events, rejected }
    }
    // Decode as the node does (bytes → message), so the handlers see exactly what a real tx carries.
    const decoded: Array<{ route: MsgRoute; msg: unknown; typeUrl: string }> = []
    try {
      for (const a of anys) {
        const route = this.routes.get(a.typeUrl)!
        const msg = route.type.decode(a.value)
        const signers = route.signers(msg)
        if (signers.length !== 1 || signers[0] !== tx.signer.address)
          throw new Error(`the twin signs with one key: ${a.typeUrl} wants ${signers.join(',')}, the tx is ${tx.signer.address}'s`)
        route.validate?.(msg)
        decoded.push({ route, msg, typeUrl: a.typeUrl })
      }
    } catch (err) {
      return fail(err, true)
    }
    // Ante (chain/tx/ante.ts) without the signature: the account must exist and pay; its key is
    // set by its first tx and its sequence moves on.
    const ante = this.modules.ante
    const anteStore = new CacheStore(this.store)
    const anteCtx = new Context(anteStore, meter, block, 'deliver')
    try {
      const acc = ante.getAccount(anteCtx, tx.signer.address)
      if (!acc) throw new Error(`account ${tx.signer.address} does not exist`)
      if (this.opts.txFee > 0n) ante.deductFee(anteCtx, tx.signer.address, [{ denom: DENOM, amount: this.opts.txFee.toString() }])
      ante.setAccount(anteCtx, { ...acc, pubKey: acc.pubKey ?? tx.signer.publicKey, sequence: acc.sequence + 1n })
    } catch (err) {
      return fail(err, true)
    }
    anteStore.writeTo(this.store)
    const events = [...anteCtx.events]
    const msgStore = new CacheStore(this.store)
    try {
      for (let i = 0; i < decoded.length; i++) {
        const { route, msg, typeUrl } = decoded[i]!
        const ctx = new Context(msgStore, meter, block, 'deliver')
        events.push(event('message', { action: typeUrl, sender: tx.signer.address, module: typeUrl.split('.')[1] ?? '' }, i))
        await route.handle(ctx, msg)
        events.push(...ctx.events)
      }
    } catch (err) {
      return fail(err, false, events)
    }
    this.totals.writes += msgStore.size
    msgStore.writeTo(this.store)
    return { code: 0, codespace: '', log: '', gasUsed: meter.consumed, events, rejected: false }
  }

  /** A query on the committed state through the module's own query route (what a client sends over gRPC). */
  async query(path: string, request: Uint8Array): Promise<Uint8Array> {
    const route = this.queryRoutes.get(path)
    if (!route) throw new Error(`unknown query path ${path}`)
    const ctx = new QueryContext(this.store, this.height, this.opts.chainId, this.time)
    return route.handle(ctx, request)
  }

  /** A read-only view of the committed state for typed keeper reads (what a query returns, without the encoding round trip). */
  view(): QueryContext {
    return new QueryContext(this.store, this.height, this.opts.chainId, this.time)
  }
}
