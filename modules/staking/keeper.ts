import type { Context, QueryContext } from '../../chain/context.ts'
import { event } from '../../chain/events.ts'
import { u64be } from '../../chain/store/encoding.ts'
import { LastDecoded, decodedByValue } from '../../chain/store/memo.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import { Node, NodeRecord, NodeStatus, Params, SlashRecord } from '../../proto/gen/beryl/staking/v1/types.ts'
import type { BankKeeper } from '../bank/index.ts'
import { DENOM } from '../common/amounts.ts'
import { MODULE, StakingErrors } from './errors.ts'
import {
  AVAILABLE_COUNT_KEY,
  NODE_PREFIX,
  PARAMS_KEY,
  RECORD_PREFIX,
  SLASH_BY_NODE_PREFIX,
  SLASH_PREFIX,
  SLASH_SEQUENCE_KEY,
  UNBONDING_PREFIX,
  nodeKey,
  recordKey,
  slashByNodeKey,
  slashKey,
  unbondingKey,
} from './keys.ts'
import { DEFAULT_PARAMS, gpuClass } from './params.ts'

/** The module account that receives slashed stake (spendable only by a later governance issue). */
export const COMMUNITY_POOL = 'community_pool'
const u64 = u64be

const emptyRecord = (address: string): NodeRecord => ({
  address,
  earned: '0',
  tasksPaid: 0n,
  slashCount: 0,
  slashedAmount: '0',
  lastSlashTime: 0n,
  lastSlashReason: '',
  lastSlashTask: '',
  kickedOutTime: 0n,
  kickedOutReason: '',
  firstJoinedAt: 0n,
})

/** What a slash records as evidence (kept in state as a SlashRecord). */
export interface SlashEvidence {
  reason: string
  /** The slashed task (hex commitment) and its score (hex, or "error"). */
  task: string
  score: string
  /** The validation group's tasks in speed order, their scores (hex, or "error") and result hashes. */
  groupTasks: string[]
  groupScores: string[]
  resultHashes: string[]
  /** The members' score commitments and the salts that opened them (hex; "" if never revealed). */
  groupCommitments?: string[]
  groupSalts?: string[]
}

/** Called after any change to a node (the task module keeps its dispatch index in step). */
export type NodeHook = (ctx: Context, before: Node | undefined, after: Node | undefined) => void

/** Bounded work per block: at most this many unbonding stakes are returned in one EndBlock. */
const MAX_RETURNS_PER_BLOCK = 1000

// A node is read several times per status change (the keeper, the dispatch index's hooks, the twin's agents).
const decodeNode = decodedByValue((v) => Node.decode(v))
export class StakingKeeper {
  private readonly hooks: NodeHook[] = []
  /**
   * Whether the node's stake backs answers a validation group can still judge (wired in modules/index.ts:
   * the task module's count, docs/decisions/0024). Such a stake does not leave: an unbonding node's
   * return waits for the judgement, and a kicked-out node unbonds instead of being paid out at once,
   * so a node cannot commit a fake, leave, and be gone when its group convicts it.
   */
  stakeBacksUnjudged: (ctx: Context | QueryContext, address: string) => boolean = () => false

  constructor(private readonly bank: BankKeeper) {}

  onNodeChange(h: NodeHook): void {
    this.hooks.push(h)
  }

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  private readonly storedParams = new LastDecoded((v) => Params.decode(v))

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    return v ? this.storedParams.of(v) : DEFAULT_PARAMS
  }
  setParams(ctx: Context, p: Params): void {
    this.kv(ctx).set(PARAMS_KEY, Params.encode(p).finish())
  }

  getNode(ctx: Context | QueryContext, address: string): Node | undefined {
    let addr: Uint8Array
    try {
      addr = decodeBech32(address).data
    } catch {
      return undefined
    }
    const v = this.kv(ctx).get(nodeKey(addr))
    return v ? decodeNode(v) : undefined
  }

  getNodeByBytes(ctx: Context | QueryContext, addr: Uint8Array): Node | undefined {
    const v = this.kv(ctx).get(nodeKey(addr))
    return v ? decodeNode(v) : undefined
  }

  /** An operator's node record (earnings, slashes, kick-out); undefined if the address never joined. */
  getRecord(ctx: Context | QueryContext, address: string): NodeRecord | undefined {
    let addr: Uint8Array
    try {
      addr = decodeBech32(address).data
    } catch {
      return undefined
    }
    const v = this.kv(ctx).get(recordKey(addr))
    return v ? NodeRecord.decode(v) : undefined
  }

  /** Reads, changes and writes an operator's record, creating it if needed. */
  private updateRecord(ctx: Context, address: string, change: (r: NodeRecord) => NodeRecord): NodeRecord {
    const k = recordKey(decodeBech32(address).data)
    const v = this.kv(ctx).get(k)
    const next = change(v ? NodeRecord.decode(v) : emptyRecord(address))
    this.kv(ctx).set(k, NodeRecord.encode(next).finish())
    return next
  }

  /** The task module paid `amount` uberyl (net of the protocol share) to the node `address`. */
  recordEarning(ctx: Context, address: string, amount: bigint): void {
    if (amount < 0n) throw StakingErrors.InvalidAmount.with(`negative earning ${amount}`)
    this.updateRecord(ctx, address, (r) => ({ ...r, earned: (BigInt(r.earned) + amount).toString(), tasksPaid: r.tasksPaid + 1n }))
  }

  /** Nodes in status Available (the network size the sampling rate is computed for). */
  availableCount(ctx: Context | QueryContext): bigint {
    const v = this.kv(ctx).get(AVAILABLE_COUNT_KEY)
    return v ? Buffer.from(v).readBigUInt64BE() : 0n
  }

  /** Writes a node (or removes it) and tells the hooks. Every change goes through here. */
  private put(ctx: Context, before: Node | undefined, after: Node | undefined): void {
    const addr = decodeBech32((after ?? before)!.address).data
    if (after) this.kv(ctx).set(nodeKey(addr), Node.encode(after).finish())
    else this.kv(ctx).delete(nodeKey(addr))
    const wasAvailable = before?.status === NodeStatus.NODE_STATUS_AVAILABLE
    const isAvailable = after?.status === NodeStatus.NODE_STATUS_AVAILABLE
    if (wasAvailable !== isAvailable) {
      this.kv(ctx).set(AVAILABLE_COUNT_KEY, u64(this.availableCount(ctx) + (isAvailable ? 1n : -1n)))
    }
    for (const h of this.hooks) h(ctx, before, after)
  }

  private transition(ctx: Context, node: Node, to: NodeStatus, extra: Partial<Node> = {}): Node {
    const after = { ...node, ...extra, status: to }
    this.put(ctx, node, after)
    ctx.emit(event('node_status', { node: node.address, from: NodeStatus[node.status], to: NodeStatus[to] }))
    return after
  }

  join(ctx: Context, n: Omit<Node, 'status' | 'joinedAt' | 'unbondingUntil'>): Node {
    if (this.getNode(ctx, n.address)) throw StakingErrors.NodeExists.with(n.address)
    const params = this.params(ctx)
    const record = this.getRecord(ctx, n.address)
    if (record?.slashCount && ctx.block.timeSeconds < record.lastSlashTime + params.rejoinCooldown) {
      throw StakingErrors.RejoinCooldown.with(
        `${n.address} was slashed at ${record.lastSlashTime}; it may join from ${record.lastSlashTime + params.rejoinCooldown}`,
      )
    }
    const stake = BigInt(n.stake)
    const min = BigInt(params.minStake)
    if (stake < min) throw StakingErrors.StakeTooLow.with(`stake ${stake}${DENOM} is below the minimum ${min}${DENOM}`)
    this.checkGpu(params, n.gpuName, n.gpuVramGb)
    this.bank.sendFromAccountToModule(ctx, n.address, MODULE, [{ denom: DENOM, amount: stake }])
    const node: Node = { ...n, status: NodeStatus.NODE_STATUS_AVAILABLE, joinedAt: ctx.block.timeSeconds, unbondingUntil: 0n }
    this.put(ctx, undefined, node)
    this.updateRecord(ctx, n.address, (r) => (r.firstJoinedAt === 0n ? { ...r, firstJoinedAt: ctx.block.timeSeconds } : r))
    ctx.emit(event('node_joined', { node: n.address, gpu_name: n.gpuName, gpu_vram_gb: String(n.gpuVramGb), stake: `${stake}${DENOM}` }))
    return node
  }

  /** A node's GPU must be a registry class, with exactly the class's VRAM. */
  private checkGpu(params: Params, name: string, vramGb: number): void {
    const c = gpuClass(params, name)
    if (!c) throw StakingErrors.UnknownGpuClass.with(`${JSON.stringify(name)}; the registry lists ${params.gpuClasses.map((x) => x.name).join(', ')}`)
    if (c.vramGb !== vramGb) throw StakingErrors.UnknownGpuClass.with(`${name} has ${c.vramGb} GB in the registry, not ${vramGb}`)
  }

  private mustGet(ctx: Context, address: string): Node {
    const n = this.getNode(ctx, address)
    if (!n) throw StakingErrors.NodeNotFound.with(address)
    return n
  }

  addStake(ctx: Context, address: string, amount: bigint): void {
    const n = this.mustGet(ctx, address)
    if (n.status === NodeStatus.NODE_STATUS_UNBONDING || n.status === NodeStatus.NODE_STATUS_PENDING_QUIT) {
      throw StakingErrors.WrongStatus.with(`node ${address} is leaving`)
    }
    this.bank.sendFromAccountToModule(ctx, address, MODULE, [{ denom: DENOM, amount }])
    this.put(ctx, n, { ...n, stake: (BigInt(n.stake) + amount).toString() })
    ctx.emit(event('stake_added', { node: address, amount: `${amount}${DENOM}` }))
  }

  updateModels(ctx: Context, address: string, modelIds: string[]): void {
    const n = this.mustGet(ctx, address)
    if (n.status === NodeStatus.NODE_STATUS_UNBONDING) throw StakingErrors.WrongStatus.with(`node ${address} is unbonding`)
    this.put(ctx, n, { ...n, modelIds })
    ctx.emit(event('node_models', { node: address, model_ids: modelIds.join(',') }))
  }

  pause(ctx: Context, address: string): void {
    const n = this.mustGet(ctx, address)
    if (n.status === NodeStatus.NODE_STATUS_AVAILABLE) this.transition(ctx, n, NodeStatus.NODE_STATUS_PAUSED)
    else if (n.status === NodeStatus.NODE_STATUS_BUSY) this.transition(ctx, n, NodeStatus.NODE_STATUS_PENDING_PAUSE)
    else throw StakingErrors.WrongStatus.with(`cannot pause a node in status ${NodeStatus[n.status]}`)
  }

  resume(ctx: Context, address: string): void {
    const n = this.mustGet(ctx, address)
    if (n.status === NodeStatus.NODE_STATUS_PAUSED) this.transition(ctx, n, NodeStatus.NODE_STATUS_AVAILABLE)
    else if (n.status === NodeStatus.NODE_STATUS_PENDING_PAUSE) this.transition(ctx, n, NodeStatus.NODE_STATUS_BUSY)
    else throw StakingErrors.WrongStatus.with(`cannot resume a node in status ${NodeStatus[n.status]}`)
  }

  quit(ctx: Context, address: string): void {
    const n = this.mustGet(ctx, address)
    if (n.status === NodeStatus.NODE_STATUS_AVAILABLE || n.status === NodeStatus.NODE_STATUS_PAUSED) this.startUnbonding(ctx, n)
    else if (n.status === NodeStatus.NODE_STATUS_BUSY || n.status === NodeStatus.NODE_STATUS_PENDING_PAUSE)
      this.transition(ctx, n, NodeStatus.NODE_STATUS_PENDING_QUIT)
    else throw StakingErrors.WrongStatus.with(`node ${address} is already leaving`)
  }

  private startUnbonding(ctx: Context, n: Node): void {
    const until = ctx.block.timeSeconds + this.params(ctx).unbondingPeriod
    this.kv(ctx).set(unbondingKey(until, decodeBech32(n.address).data), new Uint8Array())
    this.transition(ctx, n, NodeStatus.NODE_STATUS_UNBONDING, { unbondingUntil: until })
  }

  /** The task module marks its selected node busy… */
  setBusy(ctx: Context, address: string): void {
    const n = this.mustGet(ctx, address)
    if (n.status !== NodeStatus.NODE_STATUS_AVAILABLE) throw StakingErrors.WrongStatus.with(`node ${address} is not available`)
    this.transition(ctx, n, NodeStatus.NODE_STATUS_BUSY)
  }

  /** …and releases it when the task ends: a pending pause or quit takes effect now. */
  release(ctx: Context, address: string): void {
    const n = this.getNode(ctx, address)
    if (!n) return // slashed meanwhile
    if (n.status === NodeStatus.NODE_STATUS_BUSY) this.transition(ctx, n, NodeStatus.NODE_STATUS_AVAILABLE)
    else if (n.status === NodeStatus.NODE_STATUS_PENDING_PAUSE) this.transition(ctx, n, NodeStatus.NODE_STATUS_PAUSED)
    else if (n.status === NodeStatus.NODE_STATUS_PENDING_QUIT) this.startUnbonding(ctx, n)
  }

  /**
   * Slashes a node: slash_fraction of its stake goes to the community pool, the rest back to the
   * operator, and the node is removed. The evidence is kept in state (a SlashRecord, queryable), in
   * the operator's NodeRecord (reason and task) and in the event.
   */
  slash(ctx: Context, address: string, evidence: SlashEvidence): bigint {
    const n = this.mustGet(ctx, address)
    const stake = BigInt(n.stake)
    const taken = (stake * BigInt(this.params(ctx).slashFractionPpm)) / 1_000_000n
    if (taken > 0n) this.bank.sendFromModuleToModule(ctx, MODULE, COMMUNITY_POOL, [{ denom: DENOM, amount: taken }])
    if (stake - taken > 0n) this.bank.sendFromModuleToAccount(ctx, MODULE, address, [{ denom: DENOM, amount: stake - taken }])
    if (n.status === NodeStatus.NODE_STATUS_UNBONDING) this.kv(ctx).delete(unbondingKey(n.unbondingUntil, decodeBech32(address).data))
    this.put(ctx, n, undefined)
    this.updateRecord(ctx, address, (r) => ({
      ...r,
      slashCount: r.slashCount + 1,
      slashedAmount: (BigInt(r.slashedAmount) + taken).toString(),
      lastSlashTime: ctx.block.timeSeconds,
      lastSlashReason: evidence.reason,
      lastSlashTask: evidence.task,
    }))
    const seqRaw = this.kv(ctx).get(SLASH_SEQUENCE_KEY)
    const sequence = seqRaw ? Buffer.from(seqRaw).readBigUInt64BE() : 0n
    this.kv(ctx).set(SLASH_SEQUENCE_KEY, u64(sequence + 1n))
    const rec: SlashRecord = {
      node: address,
      height: ctx.block.height,
      time: ctx.block.timeSeconds,
      reason: evidence.reason,
      amount: taken.toString(),
      task: evidence.task,
      groupTasks: evidence.groupTasks,
      groupScores: evidence.groupScores,
      resultHashes: evidence.resultHashes,
      sequence,
      groupCommitments: evidence.groupCommitments ?? [],
      groupSalts: evidence.groupSalts ?? [],
    }
    this.kv(ctx).set(slashKey(sequence), SlashRecord.encode(rec).finish())
    this.kv(ctx).set(slashByNodeKey(decodeBech32(address).data, sequence), new Uint8Array())
    ctx.emit(
      event('node_slashed', {
        node: address,
        amount: `${taken}${DENOM}`,
        reason: evidence.reason,
        task: evidence.task,
        score: evidence.score,
        group_tasks: evidence.groupTasks.join(','),
        group_scores: evidence.groupScores.join(','),
      }),
    )
    return taken
  }

  /** Slashes with their evidence, newest first: all of them, or one node's. */
  async slashes(ctx: Context | QueryContext, f: { node?: string; key: Uint8Array; limit: number }): Promise<{ slashes: SlashRecord[]; nextKey: Uint8Array }> {
    const prefix = f.node ? Buffer.concat([SLASH_BY_NODE_PREFIX, decodeBech32(f.node).data]) : SLASH_PREFIX
    const end = f.key.length ? Buffer.concat([prefix, f.key]) : prefixEnd(prefix)
    const out: SlashRecord[] = []
    let nextKey: Uint8Array = new Uint8Array()
    for await (const [k, v] of this.kv(ctx).iterate({ start: prefix, end, reverse: true })) {
      const seq = k.subarray(k.length - 8)
      if (out.length === f.limit) {
        nextKey = Buffer.concat([seq, Uint8Array.of(0)])
        break
      }
      const raw = f.node ? this.kv(ctx).get(Buffer.concat([SLASH_PREFIX, seq])) : v
      if (raw) out.push(SlashRecord.decode(raw))
    }
    return { slashes: out, nextKey }
  }

  /**
   * Removes a node and returns its whole stake (QoS kick-out). A stake that backs unjudged answers
   * stays: the node unbonds from now instead, and its stake returns once they are judged.
   */
  kickOut(ctx: Context, address: string, reason: string): void {
    const n = this.mustGet(ctx, address)
    const held = this.stakeBacksUnjudged(ctx, address)
    if (n.status === NodeStatus.NODE_STATUS_UNBONDING) this.kv(ctx).delete(unbondingKey(n.unbondingUntil, decodeBech32(address).data))
    if (held) {
      const now = ctx.block.timeSeconds
      this.kv(ctx).set(unbondingKey(now, decodeBech32(address).data), new Uint8Array())
      if (n.status === NodeStatus.NODE_STATUS_UNBONDING) this.put(ctx, n, { ...n, unbondingUntil: now })
      else this.transition(ctx, n, NodeStatus.NODE_STATUS_UNBONDING, { unbondingUntil: now })
    } else {
      this.bank.sendFromModuleToAccount(ctx, MODULE, address, [{ denom: DENOM, amount: BigInt(n.stake) }])
      this.put(ctx, n, undefined)
    }
    this.updateRecord(ctx, address, (r) => ({ ...r, kickedOutTime: ctx.block.timeSeconds, kickedOutReason: reason }))
    ctx.emit(event('node_kicked_out', { node: address, stake: `${n.stake}${DENOM}`, reason, ...(held ? { held_until_judged: 'true' } : {}) }))
  }

  /** A page of nodes in address order, optionally of one status and GPU name (the Nodes query). */
  async pageNodes(
    ctx: Context | QueryContext,
    f: { status: NodeStatus; gpuName: string; key: Uint8Array; limit: number },
  ): Promise<{ nodes: Node[]; nextKey: Uint8Array }> {
    const start = f.key.length ? Buffer.concat([NODE_PREFIX, f.key]) : NODE_PREFIX
    const nodes: Node[] = []
    let nextKey: Uint8Array = new Uint8Array()
    let scanned = 0
    for await (const [k, v] of this.kv(ctx).iterate({ start, end: prefixEnd(NODE_PREFIX) })) {
      if (nodes.length === f.limit || ++scanned > 10_000) {
        nextKey = k.subarray(1)
        break
      }
      const n = Node.decode(v)
      if (f.status !== NodeStatus.NODE_STATUS_UNSPECIFIED && n.status !== f.status) continue
      if (f.gpuName && n.gpuName !== f.gpuName) continue
      nodes.push(n)
    }
    return { nodes, nextKey }
  }

  /** Every node and every record, in address order (genesis export). */
  async exportState(ctx: Context | QueryContext): Promise<{ nodes: Node[]; records: NodeRecord[] }> {
    const nodes: Node[] = [],
      records: NodeRecord[] = []
    for await (const [, v] of this.kv(ctx).iterate({ start: NODE_PREFIX, end: prefixEnd(NODE_PREFIX) })) nodes.push(Node.decode(v))
    for await (const [, v] of this.kv(ctx).iterate({ start: RECORD_PREFIX, end: prefixEnd(RECORD_PREFIX) })) records.push(NodeRecord.decode(v))
    return { nodes, records }
  }

  /**
   * Genesis import of an exported node: its stake is already in the staking module account (bank
   * genesis); an unbonding node goes back on the return queue. Hooks run, so other modules' indexes follow.
   */
  importNode(ctx: Context, n: Node): void {
    if (this.getNode(ctx, n.address)) throw new Error(`staking genesis: node ${n.address} is listed twice`)
    if (n.status === NodeStatus.NODE_STATUS_UNSPECIFIED) throw new Error(`staking genesis: node ${n.address} has no status`)
    if (n.status === NodeStatus.NODE_STATUS_UNBONDING) this.kv(ctx).set(unbondingKey(n.unbondingUntil, decodeBech32(n.address).data), new Uint8Array())
    this.put(ctx, undefined, n)
  }

  importRecord(ctx: Context, r: NodeRecord): void {
    this.kv(ctx).set(recordKey(decodeBech32(r.address).data), NodeRecord.encode(r).finish())
  }

  /**
   * EndBlock: returns the stakes whose unbonding period has passed, oldest first. A stake that still
   * backs unjudged answers stays in the queue, looked at again each block until they are judged.
   */
  async returnUnbonded(ctx: Context): Promise<void> {
    const end = Buffer.concat([UNBONDING_PREFIX, u64(ctx.block.timeSeconds + 1n)])
    const due: Uint8Array[] = []
    for await (const [k] of this.kv(ctx).iterate({ start: UNBONDING_PREFIX, end, limit: MAX_RETURNS_PER_BLOCK })) due.push(k)
    for (const k of due) {
      const addr = k.subarray(9)
      const v = this.kv(ctx).get(nodeKey(addr))
      if (v && this.stakeBacksUnjudged(ctx, Node.decode(v).address)) continue
      this.kv(ctx).delete(k)
      if (!v) continue
      const n = Node.decode(v)
      this.bank.sendFromModuleToAccount(ctx, MODULE, n.address, [{ denom: DENOM, amount: BigInt(n.stake) }])
      this.put(ctx, n, undefined)
      ctx.emit(event('node_unbonded', { node: n.address, stake: `${n.stake}${DENOM}` }))
    }
  }
}
