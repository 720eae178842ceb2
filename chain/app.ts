import { createHash } from 'node:crypto'
import type {
  RequestCheckTx,
  RequestExtendVote,
  RequestFinalizeBlock,
  RequestInfo,
  RequestInitChain,
  RequestPrepareProposal,
  RequestProcessProposal,
  RequestQuery,
  RequestVerifyVoteExtension,
  ResponseCheckTx,
  ResponseCommit,
  ResponseExtendVote,
  ResponseFinalizeBlock,
  ResponseInfo,
  ResponseInitChain,
  ResponsePrepareProposal,
  ResponseProcessProposal,
  ResponseQuery,
  ResponseVerifyVoteExtension,
} from 'cosmjs-types/tendermint/abci/types'
import { ExtendedCommitInfo } from 'cosmjs-types/tendermint/abci/types'
import { AuthInfo, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { AbciApplication } from './abci/types.ts'
import { Context, QueryContext, type BlockInfo } from './context.ts'
import { ChainError, SdkErrors, toChainError } from './errors.ts'
import type { Event } from './events.ts'
import { GasMeter } from './gas.ts'
import type { CommitVote, ConsensusInfo, Misbehavior, Module, MsgRoute, QueryRoute, ValidatorUpdate, VoteExtensionHandler } from './module.ts'
import { CacheStore } from './store/cache.ts'
import { CommittedStore, nextLtHash } from './store/leveldb.ts'
import type { LtHash } from './store/lthash.ts'
import type { AnteKeepers, GasPrice } from './tx/ante.ts'
import { runTx, type TxEnv, type TxResult } from './tx/run.ts'
import { checkInjected, decodeInjected, encodeInjected, extensionSignBytes, injectedExtensions, isInjected, verifyEd25519 } from './voteext.ts'

export const APP_VERSION = 1n
export const SOFTWARE_VERSION = '0.1.0'

export interface AppOptions {
  modules: Module[]
  ante: AnteKeepers
  bech32Prefix: string
  feeDenom: string
  /** Node-local policy for CheckTx; undefined accepts any fee. */
  minGasPrice?: GasPrice
  /** Extra queries served by the runtime itself (e.g. the tx service). */
  queries?: QueryRoute[]
  log?: (msg: string) => void
  /** Test hook: called around the commit write (crash tests kill the process here). */
  onCommit?: (stage: 'before-write' | 'after-write', height: bigint) => void
  /**
   * Test hook (integration tests only, via BERYL_TEST_BYZANTINE_PROPOSER): this node, as proposer, injects
   * forged extensions (`forge`), only one of them (`short`) or none (`missing`). Never set in a real node.
   */
  byzantineProposer?: 'forge' | 'short' | 'missing'
}

/** The gas limit a tx declares, read without a full decode (undefined if it does not parse). */
function peekGasLimit(tx: Uint8Array): bigint | undefined {
  try {
    return AuthInfo.decode(TxRaw.decode(tx).authInfoBytes).fee?.gasLimit
  } catch {
    return undefined
  }
}

const abciValidatorUpdate = (u: ValidatorUpdate) => ({ pubKey: { ed25519: u.ed25519PubKey }, power: u.power })

/** Chain-level values kept in state under the runtime's own prefix. */
const BASE = 'baseapp/'
const KEY_CHAIN_ID = Buffer.from(BASE + 'chain_id')
const KEY_MAX_GAS = Buffer.from(BASE + 'max_gas')
const KEY_INITIAL_HEIGHT = Buffer.from(BASE + 'initial_height')
const KEY_VE_HEIGHT = Buffer.from(BASE + 'vote_extensions_enable_height')

/** One executed block (not yet committed): its state changes, results and app hash. */
interface Candidate {
  key: string
  store: CacheStore
  txResults: TxResult[]
  events: Event[]
  ltHash: LtHash
  appHash: Uint8Array
  height: bigint
  timeSeconds: bigint
  /** Whether execution read the block hash; if not, the result is valid for any hash. */
  usedHash: boolean
  validatorUpdates: ValidatorUpdate[]
}

interface BlockHeader {
  height: bigint
  time?: { seconds: bigint; nanos: number }
  proposerAddress: Uint8Array
  hash: Uint8Array
  txs: Uint8Array[]
  consensus: ConsensusInfo
}

const BLOCK_ID_FLAG_ABSENT = 1
const BLOCK_ID_FLAG_COMMIT = 2
const MISBEHAVIOR_KINDS: Record<number, Misbehavior['kind']> = { 1: 'duplicate_vote', 2: 'light_client_attack' }

/**
 * The last commit's votes and the block's evidence, in the runtime's terms. The same block gives
 * the same values in PrepareProposal (local_last_commit), ProcessProposal (proposed_last_commit)
 * and FinalizeBlock (decided_last_commit).
 */
function consensusInfo(
  votes: Array<{ validator?: { address: Uint8Array; power: bigint }; blockIdFlag: number }> | undefined,
  misbehavior: Array<{ type: number; validator?: { address: Uint8Array; power: bigint }; height: bigint; time?: { seconds: bigint } }> | undefined,
): ConsensusInfo {
  const lastCommit: CommitVote[] = (votes ?? [])
    .filter((v) => v.validator)
    .map((v) => ({
      address: v.validator!.address,
      power: v.validator!.power,
      signed: v.blockIdFlag !== BLOCK_ID_FLAG_ABSENT && v.blockIdFlag !== 0,
    }))
  const mis: Misbehavior[] = (misbehavior ?? [])
    .filter((m) => m.validator && MISBEHAVIOR_KINDS[m.type])
    .map((m) => ({
      kind: MISBEHAVIOR_KINDS[m.type]!,
      address: m.validator!.address,
      power: m.validator!.power,
      height: m.height,
      timeSeconds: m.time?.seconds ?? 0n,
    }))
  return { lastCommit, misbehavior: mis }
}

const NO_CONSENSUS: ConsensusInfo = { lastCommit: [], misbehavior: [] }

/** The result of the injected first tx (CometBFT wants one result per tx). */
const INJECTED_RESULT = (): TxResult => ({
  code: 0,
  codespace: '',
  log: 'vote extensions of the previous height (consensus data, not a transaction)',
  data: new Uint8Array(),
  gasWanted: 0n,
  gasUsed: 0n,
  events: [],
  rejected: false,
  msgResponses: [],
})

/**
 * The Beryl application: the whole ABCI contract in one place. Info reports what is committed;
 * InitChain stages genesis; CheckTx runs against a check state rebuilt at each Commit;
 * Prepare/ProcessProposal execute the block on a candidate state that FinalizeBlock reuses when
 * it is the same block; Commit writes the block's changes in one atomic batch.
 */
export class BerylApp implements AbciApplication {
  private readonly routes = new Map<string, MsgRoute>()
  private readonly queryRoutes = new Map<string, QueryRoute>()
  private readonly env: TxEnv
  private checkState: CacheStore
  /** Genesis writes, staged by InitChain until the first block commits. */
  private genesis?: CacheStore
  private candidates = new Map<string, Candidate>()
  private finalized?: Candidate
  private readonly log: (msg: string) => void
  private readonly voteExt?: VoteExtensionHandler

  constructor(
    readonly committed: CommittedStore,
    private readonly opts: AppOptions,
  ) {
    for (const m of opts.modules) {
      for (const r of m.msgs ?? []) {
        if (this.routes.has(r.typeUrl)) throw new Error(`message ${r.typeUrl} registered twice`)
        this.routes.set(r.typeUrl, r)
      }
      for (const q of m.queries ?? []) this.addQuery(q)
    }
    for (const q of opts.queries ?? []) this.addQuery(q)
    const handlers = opts.modules.filter((m) => m.voteExtensions)
    if (handlers.length > 1) throw new Error(`vote extensions served by two modules: ${handlers.map((m) => m.name).join(', ')}`)
    this.voteExt = handlers[0]?.voteExtensions
    this.env = { routes: this.routes, keepers: opts.ante, bech32Prefix: opts.bech32Prefix, minGasPrice: opts.minGasPrice, feeDenom: opts.feeDenom }
    this.checkState = new CacheStore(committed)
    this.log = opts.log ?? (() => {})
  }

  private addQuery(q: QueryRoute) {
    if (this.queryRoutes.has(q.path)) throw new Error(`query ${q.path} registered twice`)
    this.queryRoutes.set(q.path, q)
  }

  get messageTypes(): string[] {
    return [...this.routes.keys()].sort()
  }

  /** Every query path `Query` answers (the gRPC server serves exactly these). */
  queryPaths(): string[] {
    return [...this.queryRoutes.keys()].sort()
  }

  /** The last committed height. */
  latestHeight(): bigint {
    return this.committed.info.height
  }

  // ---- state helpers -------------------------------------------------------------------------

  private base(): CacheStore {
    return this.genesis ? this.genesis.clone() : new CacheStore(this.committed)
  }

  private chainId_?: string

  /** The chain id, fixed at genesis (known from InitChain on, even before the first commit). */
  chainId(): string {
    if (this.chainId_ === undefined) {
      const v = (this.genesis ?? this.committed).get(KEY_CHAIN_ID)
      if (!v) return ''
      this.chainId_ = Buffer.from(v).toString('utf8')
    }
    return this.chainId_
  }

  private veHeight_?: bigint

  /** Consensus param `abci.vote_extensions_enable_height` from genesis (0: vote extensions off). */
  voteExtensionsEnableHeight(): bigint {
    if (this.veHeight_ === undefined) {
      const v = (this.genesis ?? this.committed).get(KEY_VE_HEIGHT)
      if (!this.genesis && this.committed.info.height === 0n) return v ? BigInt(Buffer.from(v).toString('ascii')) : 0n
      this.veHeight_ = v ? BigInt(Buffer.from(v).toString('ascii')) : 0n
    }
    return this.veHeight_
  }

  /**
   * Whether block `height` must carry the previous height's extensions: the first extended votes are
   * those of the enable height, so the first block that carries them is the next one.
   */
  injectionRequired(height: bigint): boolean {
    const e = this.voteExtensionsEnableHeight()
    return e > 0n && height > e
  }

  private maxGas(store: { get(k: Uint8Array): Uint8Array | undefined }): bigint {
    const v = store.get(KEY_MAX_GAS)
    return v ? BigInt(Buffer.from(v).toString('ascii')) : -1n
  }

  private blockInfo(h: BlockHeader, track?: { usedHash: boolean }): BlockInfo {
    const info = {
      chainId: this.chainId(),
      height: h.height,
      timeSeconds: h.time?.seconds ?? 0n,
      timeNanos: h.time?.nanos ?? 0,
      proposer: h.proposerAddress,
      lastAppHash: this.committed.info.appHash,
    } as BlockInfo
    Object.defineProperty(info, 'hash', {
      enumerable: true,
      get: () => {
        if (track) track.usedHash = true
        return h.hash
      },
    })
    return info
  }

  // ---- ABCI ----------------------------------------------------------------------------------

  info(_req: RequestInfo): Partial<ResponseInfo> {
    const { height, appHash } = this.committed.info
    return { data: 'beryl', version: SOFTWARE_VERSION, appVersion: APP_VERSION, lastBlockHeight: height, lastBlockAppHash: appHash }
  }

  async initChain(req: RequestInitChain): Promise<Partial<ResponseInitChain>> {
    if (this.committed.info.height > 0n) throw new Error('InitChain called on a chain that already has committed blocks')
    const store = new CacheStore(this.committed)
    store.set(KEY_CHAIN_ID, Buffer.from(req.chainId, 'utf8'))
    store.set(KEY_MAX_GAS, Buffer.from(String(req.consensusParams?.block?.maxGas ?? -1n), 'ascii'))
    store.set(KEY_INITIAL_HEIGHT, Buffer.from(String(req.initialHeight), 'ascii'))
    // Written only when on: a chain without vote extensions keeps the state it had before they existed.
    const ve = req.consensusParams?.abci?.voteExtensionsEnableHeight ?? 0n
    if (ve > 0n) store.set(KEY_VE_HEIGHT, Buffer.from(String(ve), 'ascii'))
    this.veHeight_ = undefined
    let appState: Record<string, unknown> = {}
    if (req.appStateBytes.length > 0) {
      try {
        appState = JSON.parse(Buffer.from(req.appStateBytes).toString('utf8'))
      } catch (err) {
        throw new Error(`genesis app_state is not valid JSON: ${(err as Error).message}`)
      }
    }
    const block: BlockInfo = {
      chainId: req.chainId,
      height: req.initialHeight,
      timeSeconds: req.time?.seconds ?? 0n,
      timeNanos: req.time?.nanos ?? 0,
      proposer: new Uint8Array(),
      hash: new Uint8Array(),
      lastAppHash: new Uint8Array(),
    }
    const validators: ValidatorUpdate[] = []
    for (const m of this.opts.modules) {
      const ctx = new Context(store, new GasMeter(undefined), block, 'genesis')
      try {
        const updates = await m.initGenesis?.(ctx, appState[m.name])
        if (updates) validators.push(...updates)
      } catch (err) {
        throw new Error(`genesis of module ${m.name}: ${(err as Error).message}`)
      }
    }
    this.genesis = store
    this.chainId_ = req.chainId
    // CheckTx may run before the first block commits: it sees the genesis state too.
    this.checkState = store.clone()
    const lt = nextLtHash(this.committed.ltHash, this.committed, store.changes())
    this.log(`genesis staged for chain ${req.chainId} (${store.size} keys)`)
    // No validators: CometBFT keeps genesis.json's; some: they replace it (a gentx ceremony).
    return { appHash: lt.digest(), validators: validators.map(abciValidatorUpdate) }
  }

  async checkTx(req: RequestCheckTx): Promise<Partial<ResponseCheckTx>> {
    if (isInjected(req.tx)) {
      const e = SdkErrors.TxDecode.with('this prefix is reserved for the vote extensions a proposer injects; it is not a transaction')
      return { code: e.code, codespace: e.codespace, log: e.message }
    }
    const block = this.blockInfo({
      height: this.committed.info.height + 1n,
      proposerAddress: new Uint8Array(),
      hash: new Uint8Array(),
      txs: [],
      consensus: NO_CONSENSUS,
    })
    const r = await runTx(this.env, this.checkState, block, req.type === 1 ? 'recheck' : 'check', req.tx)
    // No events: CometBFT neither indexes nor forwards CheckTx events, and encoding them costs.
    return { code: r.code, codespace: r.codespace, log: r.log, gasWanted: r.gasWanted, gasUsed: r.gasUsed }
  }

  async prepareProposal(req: RequestPrepareProposal): Promise<Partial<ResponsePrepareProposal>> {
    const store = this.base()
    const maxGas = this.maxGas(store)
    let bytes = 0n
    let gas = 0n
    const kept: Uint8Array[] = []
    let injected: ExtendedCommitInfo | undefined
    if (this.injectionRequired(req.height)) {
      injected = this.byzantine(req.localLastCommit ?? { round: 0, votes: [] })
      if (injected) {
        const inj = encodeInjected(injected)
        kept.push(inj)
        bytes += BigInt(inj.length)
      }
    }
    // Execute as we go, so a tx made invalid by an earlier one in this block (a spent balance,
    // a moved sequence) is left out: our proposal must pass everyone's ProcessProposal.
    const header: BlockHeader = {
      height: req.height,
      time: req.time,
      proposerAddress: req.proposerAddress,
      hash: new Uint8Array(),
      txs: kept,
      consensus: {
        ...consensusInfo(req.localLastCommit?.votes, req.misbehavior),
        voteExtensions: injected && injectedExtensions(injected),
      },
    }
    const track = { usedHash: false }
    const block = this.blockInfo(header, track)
    const { events: beginEvents } = await this.runHooks('beginBlock', store, block, header.consensus)
    const results: TxResult[] = injected ? [INJECTED_RESULT()] : []
    for (const tx of req.txs) {
      // Never a mempool tx that looks like an injection (CheckTx refuses them; a peer's mempool may not).
      if (isInjected(tx)) continue
      const size = BigInt(tx.length)
      if (bytes + size > req.maxTxBytes) continue
      // Skip a tx whose gas limit no longer fits before paying to execute it.
      if (maxGas >= 0n && gas + (peekGasLimit(tx) ?? 0n) > maxGas) continue
      // runTx writes nothing for a rejected tx, and the gas check above used the declared limit,
      // so the tx runs directly on the block state.
      const r = await runTx(this.env, store, block, 'deliver', tx)
      if (r.rejected) continue
      bytes += size
      gas += r.gasWanted
      kept.push(tx)
      results.push(r)
    }
    const { events: endEvents, validatorUpdates } = await this.runHooks('endBlock', store, block, header.consensus)
    this.remember(header, store, results, [...beginEvents, ...endEvents], track.usedHash, validatorUpdates)
    return { txs: kept }
  }

  async processProposal(req: RequestProcessProposal): Promise<Partial<ResponseProcessProposal>> {
    const header: BlockHeader = {
      height: req.height,
      time: req.time,
      proposerAddress: req.proposerAddress,
      hash: req.hash,
      txs: req.txs,
      consensus: consensusInfo(req.proposedLastCommit?.votes, req.misbehavior),
    }
    const ACCEPT = 1,
      REJECT = 2
    const bad = this.checkInjection(req)
    if (bad) {
      this.log(`rejecting proposal at height ${req.height}: ${bad}`)
      return { status: REJECT }
    }
    let c = this.lookup(header)
    if (!c) {
      c = await this.execute(header)
    }
    if (c.txResults.some((r) => r.rejected)) {
      this.log(`rejecting proposal at height ${req.height}: it holds a transaction that fails its checks`)
      return { status: REJECT }
    }
    const maxGas = this.maxGas(c.store)
    if (maxGas >= 0n && c.txResults.reduce((a, r) => a + r.gasWanted, 0n) > maxGas) {
      this.log(`rejecting proposal at height ${req.height}: gas wanted exceeds the block limit ${maxGas}`)
      return { status: REJECT }
    }
    return { status: ACCEPT }
  }

  async finalizeBlock(req: RequestFinalizeBlock): Promise<Partial<ResponseFinalizeBlock>> {
    const header: BlockHeader = {
      height: req.height,
      time: req.time,
      proposerAddress: req.proposerAddress,
      hash: req.hash,
      txs: req.txs,
      consensus: consensusInfo(req.decidedLastCommit?.votes, req.misbehavior),
    }
    const c = this.lookup(header) ?? (await this.execute(header))
    this.finalized = c
    this.candidates.clear()
    return {
      events: c.events,
      txResults: c.txResults.map((r) => ({
        code: r.code,
        codespace: r.codespace,
        log: r.log,
        data: r.data,
        info: '',
        gasWanted: r.gasWanted,
        gasUsed: r.gasUsed,
        events: r.events,
      })),
      validatorUpdates: c.validatorUpdates.map(abciValidatorUpdate),
      appHash: c.appHash,
    }
  }

  async commit(): Promise<Partial<ResponseCommit>> {
    const c = this.finalized
    if (!c) throw new Error('Commit without a finalized block')
    this.opts.onCommit?.('before-write', c.height)
    await this.committed.commit(c.store.changes(), c.height, c.appHash, c.ltHash, c.timeSeconds)
    this.opts.onCommit?.('after-write', c.height)
    this.finalized = undefined
    this.genesis = undefined
    this.checkState = new CacheStore(this.committed)
    return { retainHeight: 0n }
  }

  /**
   * Every module's state at the last committed block, as genesis `app_state` (each module's
   * exportGenesis), with the chain id, height and block time it was taken at.
   */
  async exportGenesis(): Promise<{ chainId: string; height: bigint; timeSeconds: bigint; appState: Record<string, unknown> }> {
    const ctx = this.queryContext()
    const appState: Record<string, unknown> = {}
    for (const m of this.opts.modules) if (m.exportGenesis) appState[m.name] = await m.exportGenesis(ctx)
    return { chainId: this.chainId(), height: this.committed.info.height, timeSeconds: this.committed.info.timeSeconds, appState }
  }

  /** The state a vote at the next height is checked against: the committed state, or genesis before the first commit. */
  private consensusContext(): QueryContext {
    return new QueryContext(this.base(), this.committed.info.height, this.chainId(), this.committed.info.timeSeconds)
  }

  /** A read-only view of the committed state, for the node's own services (gateway, attester). */
  queryContext(): QueryContext {
    return new QueryContext(new CacheStore(this.committed), this.committed.info.height, this.chainId(), this.committed.info.timeSeconds)
  }

  async query(req: RequestQuery): Promise<Partial<ResponseQuery>> {
    const height = this.committed.info.height
    const fail = (e: ChainError) => ({ code: e.code, codespace: e.codespace, log: e.message, height: height > 0n ? height : 0n })
    if (height === 0n) return fail(SdkErrors.InvalidHeight.with('the chain is not ready; please wait for the first block'))
    if (req.height !== 0n && req.height !== height) {
      return fail(
        SdkErrors.InvalidHeight.with(`this node keeps only the latest state (height ${height}); historical queries at ${req.height} are not supported`),
      )
    }
    const route = this.queryRoutes.get(req.path)
    if (!route) return fail(SdkErrors.UnknownRequest.with(`unknown query path ${JSON.stringify(req.path)}`))
    try {
      const ctx = new QueryContext(new CacheStore(this.committed), height, this.chainId(), this.committed.info.timeSeconds)
      const value = await route.handle(ctx, req.data)
      return { code: 0, value, height }
    } catch (err) {
      return fail(toChainError(err))
    }
  }

  // ---- block execution -----------------------------------------------------------------------

  /**
   * Runs a transaction without keeping anything (the tx service's Simulate), as if in the next
   * block at the last block's time: messages whose cost depends on time (QoS health recovery,
   * deadlines) are charged what they will cost, not what they would at time 0.
   */
  async simulate(txBytes: Uint8Array): Promise<TxResult> {
    const store = new CacheStore(this.committed)
    const block = this.blockInfo({
      height: this.committed.info.height + 1n,
      time: { seconds: this.committed.info.timeSeconds, nanos: 0 },
      proposerAddress: new Uint8Array(),
      hash: new Uint8Array(),
      txs: [],
      consensus: NO_CONSENSUS,
    })
    return runTx(this.env, store, block, 'simulate', txBytes)
  }

  private async runHooks(
    hook: 'beginBlock' | 'endBlock',
    store: CacheStore,
    block: BlockInfo,
    consensus: ConsensusInfo,
  ): Promise<{ events: Event[]; validatorUpdates: ValidatorUpdate[] }> {
    const events: Event[] = []
    const validatorUpdates: ValidatorUpdate[] = []
    for (const m of this.opts.modules) {
      const ctx = new Context(store, new GasMeter(undefined), block, 'deliver')
      if (hook === 'beginBlock') {
        if (!m.beginBlock) continue
        await m.beginBlock(ctx, consensus)
      } else {
        if (!m.endBlock) continue
        const updates = await m.endBlock(ctx)
        if (updates) validatorUpdates.push(...updates)
      }
      events.push(
        ...ctx.events.map((e) => ({
          ...e,
          attributes: [...e.attributes, { key: 'mode', value: hook === 'beginBlock' ? 'BeginBlock' : 'EndBlock', index: true }],
        })),
      )
    }
    return { events, validatorUpdates }
  }

  /** Executes a block from the current base state: a pure function of (committed state, block). */
  private async execute(h: BlockHeader): Promise<Candidate> {
    const store = this.base()
    const track = { usedHash: false }
    const block = this.blockInfo(h, track)
    // A decided block's first tx may be the injected extensions (ProcessProposal checked them); they are
    // consensus data, not a transaction: they reach modules through beginBlock and get an empty result.
    let consensus = h.consensus
    let txs = h.txs
    const results: TxResult[] = []
    if (txs.length > 0 && isInjected(txs[0]!)) {
      let ext: ConsensusInfo['voteExtensions'] = []
      try {
        ext = injectedExtensions(decodeInjected(txs[0]!))
      } catch (err) {
        this.log(`block ${h.height}: ${(err as Error).message}`)
      }
      consensus = { ...consensus, voteExtensions: ext }
      txs = txs.slice(1)
      results.push(INJECTED_RESULT())
    }
    const { events: beginEvents } = await this.runHooks('beginBlock', store, block, consensus)
    for (const tx of txs) results.push(await runTx(this.env, store, block, 'deliver', tx))
    const { events: endEvents, validatorUpdates } = await this.runHooks('endBlock', store, block, consensus)
    return this.remember(h, store, results, [...beginEvents, ...endEvents], track.usedHash, validatorUpdates)
  }

  // ---- vote extensions (docs/decisions/0022) -----------------------------------------------------

  /** ExtendVote: the extension module's (empty without one, or when it fails: never an exception). */
  extendVote(req: RequestExtendVote): Partial<ResponseExtendVote> {
    if (!this.voteExt) return { voteExtension: new Uint8Array() }
    try {
      return { voteExtension: this.voteExt.extend(this.consensusContext(), req.height) }
    } catch (err) {
      this.log(`ExtendVote at height ${req.height}: ${(err as Error).message}`)
      return { voteExtension: new Uint8Array() }
    }
  }

  /** VerifyVoteExtension: ACCEPT (1) or REJECT (2), never UNKNOWN (CometBFT panics on it). */
  verifyVoteExtension(req: RequestVerifyVoteExtension): Partial<ResponseVerifyVoteExtension> {
    const ACCEPT = 1,
      REJECT = 2
    if (!this.voteExt) return { status: req.voteExtension.length === 0 ? ACCEPT : REJECT }
    let why: string | undefined
    try {
      why = this.voteExt.verify(this.consensusContext(), req.height, req.validatorAddress, req.voteExtension)
    } catch (err) {
      why = `verification failed: ${(err as Error).message}`
    }
    if (why) this.log(`rejecting the vote extension of ${Buffer.from(req.validatorAddress).toString('hex')} at height ${req.height}: ${why}`)
    return { status: why ? REJECT : ACCEPT }
  }

  /** Why a proposal's injected extensions are unacceptable (ProcessProposal), or undefined. */
  private checkInjection(req: RequestProcessProposal): string | undefined {
    const later = req.txs.findIndex((tx, i) => i > 0 && isInjected(tx))
    if (later > 0) return `tx ${later} carries the injected vote-extension prefix; only the first tx may`
    const first = req.txs[0]
    if (!this.injectionRequired(req.height)) {
      return first && isInjected(first) ? 'vote extensions injected before the enable height' : undefined
    }
    if (!first || !isInjected(first)) return 'the first tx is not the injected vote extensions of the previous height'
    let commit: ExtendedCommitInfo
    try {
      commit = decodeInjected(first)
    } catch (err) {
      return (err as Error).message
    }
    const ctx = this.consensusContext()
    const handler = this.voteExt
    const verify = handler
      ? (address: Uint8Array, ext: Uint8Array, signature: Uint8Array, round: number) => {
          try {
            if (handler.consensusPubkey) {
              const key = handler.consensusPubkey(ctx, address)
              if (!key) return 'no consensus key known for this validator'
              if (!verifyEd25519(key, extensionSignBytes(ext, req.height - 1n, round, this.chainId()), signature))
                return 'the extension signature does not verify with the consensus key'
            }
            return handler.verify(ctx, req.height - 1n, address, ext)
          } catch (err) {
            return `verification failed: ${(err as Error).message}`
          }
        }
      : () => undefined
    return checkInjected(commit, req.proposedLastCommit ?? { round: 0, votes: [] }, verify)
  }

  /** What this node injects as proposer: the local last commit, unless a byzantine test mode says otherwise. */
  private byzantine(local: ExtendedCommitInfo): ExtendedCommitInfo | undefined {
    // A commit vote without an extension (this node's own, when it has no VRF key: CometBFT verifies only the
    // others') would make every validator reject the block: it is injected as absent instead.
    const commit = {
      round: local.round,
      votes: local.votes.map((v) =>
        v.blockIdFlag === BLOCK_ID_FLAG_COMMIT && v.voteExtension.length === 0
          ? { ...v, blockIdFlag: BLOCK_ID_FLAG_ABSENT, extensionSignature: new Uint8Array() }
          : v,
      ),
    }
    const mode = this.opts.byzantineProposer
    if (!mode) return commit
    this.log(`BERYL_TEST_BYZANTINE_PROPOSER=${mode}: injecting bad vote extensions`)
    if (mode === 'missing') return undefined
    if (mode === 'short') {
      let kept = false
      return {
        round: commit.round,
        votes: commit.votes.map((v) => {
          if (v.voteExtension.length === 0 || !kept) {
            kept ||= v.voteExtension.length > 0
            return v
          }
          return { ...v, blockIdFlag: BLOCK_ID_FLAG_ABSENT, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() }
        }),
      }
    }
    return {
      round: commit.round,
      votes: commit.votes.map((v) => {
        if (v.voteExtension.length === 0) return v
        const e = Uint8Array.from(v.voteExtension)
        e[e.length - 5] ^= 0x01
        return { ...v, voteExtension: e }
      }),
    }
  }

  private candidateKey(h: BlockHeader, withHash: boolean): string {
    const hash = createHash('sha256')
    hash.update(`${h.height}/${h.time?.seconds ?? 0n}/${h.time?.nanos ?? 0}/`).update(h.proposerAddress)
    if (withHash) hash.update('/hash/').update(h.hash)
    // Liveness and evidence change state: a block with other votes or evidence is another block.
    for (const v of h.consensus.lastCommit) hash.update(`/v/${v.power}/${v.signed ? 1 : 0}/`).update(v.address)
    for (const m of h.consensus.misbehavior) hash.update(`/m/${m.kind}/${m.power}/${m.height}/${m.timeSeconds}/`).update(m.address)
    hash.update('/txs/')
    for (const tx of h.txs) hash.update(createHash('sha256').update(tx).digest())
    return hash.digest('hex')
  }

  private remember(
    h: BlockHeader,
    store: CacheStore,
    txResults: TxResult[],
    events: Event[],
    usedHash: boolean,
    validatorUpdates: ValidatorUpdate[],
  ): Candidate {
    const ltHash = nextLtHash(this.committed.ltHash, this.committed, store.changes())
    const key = this.candidateKey(h, usedHash)
    const c: Candidate = {
      key,
      store,
      txResults,
      events,
      ltHash,
      appHash: ltHash.digest(),
      height: h.height,
      timeSeconds: h.time?.seconds ?? 0n,
      usedHash,
      validatorUpdates,
    }
    // Bounded: a handful of rounds at one height at most.
    if (this.candidates.size >= 16) this.candidates.delete(this.candidates.keys().next().value!)
    this.candidates.set(key, c)
    return c
  }

  private lookup(h: BlockHeader): Candidate | undefined {
    return this.candidates.get(this.candidateKey(h, true)) ?? this.candidates.get(this.candidateKey(h, false))
  }
}
