import type { Context, QueryContext } from '../../chain/context.ts'
import { fromMapKey, toMapKey } from '../../chain/store/keys.ts'
import { PrefixStore } from '../../chain/store/prefix.ts'
import { u64be } from '../../chain/store/encoding.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import type { Task } from '../../proto/gen/beryl/task/v1/types.ts'
import { versionCompatible } from '../common/models.ts'
import { type QosKeeper, dispatchWeight } from '../qos/index.ts'
import { type Node, NodeStatus, type StakingKeeper } from '../staking/index.ts'
import { stakeBacksAnotherAnswer } from './collateral.ts'
import { MODULE } from './errors.ts'
import { CLASS, COUNTED, SEAT_CLASS, SERVING, key } from './keys.ts'
import { WeightedSet, uniformBelow } from './selection.ts'

/** Where a node is drawn from: the Available nodes (a first task) or every serving node (a validation seat). */
export type Pool = 'available' | 'serving'

/** What a task asks of a node besides being Available and healthy (taskVersion '' accepts any runner). */
export interface Requirements {
  modelIds: string[]
  minVramGb: number
  requiredGpu: string
  taskVersion: string
  /**
   * A text task without a GPU class: its validation tasks will be pinned to the GPU class of the node
   * that runs it (exact hashes need the same hardware), so it may run only in a GPU class with at least
   * this many serving nodes meeting its filters; a class too small to fill a group would make cheating
   * in it free. Its network is then the smallest such class.
   */
  sameGpuGroupOf?: bigint
}

export const requirementsOf = (t: Pick<Task, 'modelIds' | 'minVramGb' | 'requiredGpu' | 'taskVersion'>): Requirements => ({
  modelIds: t.modelIds,
  minVramGb: t.minVramGb,
  requiredGpu: t.requiredGpu,
  taskVersion: t.taskVersion,
})

/** A node class: the nodes holding one model, of one registry GPU class, at one runner version. */
interface NodeClass {
  gpuName: string
  vramGb: number
  version: string
}

/** Whether nodes of a class meet a task's filters (the model is the index's own prefix). */
function classMeets(c: NodeClass, r: Requirements): boolean {
  if (r.requiredGpu ? c.gpuName !== r.requiredGpu : c.vramGb < r.minVramGb) return false
  return !r.taskVersion || versionCompatible(c.version, r.taskVersion)
}

/** The hard filters of dispatch, for one node (what the index's classes encode). */
export function nodeMeets(node: Node, r: Requirements): boolean {
  return r.modelIds.every((m) => node.modelIds.includes(m)) && classMeets({ gpuName: node.gpuName, vramGb: node.gpuVramGb, version: node.runnerVersion }, r)
}

// The index turns the same few models and classes into keys at every node change: those conversions are
// memoized (pure functions of their string; bounded, since registrations choose the strings). The bytes
// they return are shared and never changed.
function memoized<T>(f: (s: string) => T): (s: string) => T {
  const known = new Map<string, T>()
  return (s) => {
    let v = known.get(s)
    if (v === undefined) {
      if (known.size >= 4096) known.clear()
      known.set(s, (v = f(s)))
    }
    return v
  }
}

// A class key: u32be(vram) | u8(len) | GPU name | u8(len) | runner version. The model id comes before it.
// Memo keys are JSON: names and versions are the registrant's strings, so no separator is safe.
const classKeyOf = memoized((json) => buildClassKey(JSON.parse(json) as NodeClass))
const classKey = (c: NodeClass): Uint8Array => classKeyOf(JSON.stringify({ gpuName: c.gpuName, vramGb: c.vramGb, version: c.version }))
function buildClassKey(c: NodeClass): Uint8Array {
  const name = Buffer.from(c.gpuName, 'utf8'),
    ver = Buffer.from(c.version, 'ascii')
  const vram = Buffer.alloc(4)
  vram.writeUInt32BE(c.vramGb)
  return Buffer.concat([vram, Uint8Array.of(name.length), name, Uint8Array.of(ver.length), ver])
}
// Parsed at every count and draw, for each class of the task's model: memoized by the key's map key.
const classOfKey = memoized((mk) => decodeClassKey(fromMapKey(mk)))
const parseClassKey = (k: Uint8Array): NodeClass => classOfKey(toMapKey(k))
function decodeClassKey(k: Uint8Array): NodeClass {
  const b = Buffer.from(k)
  const n = b[4]!
  const gpuName = b.subarray(5, 5 + n).toString('utf8')
  const version = b.subarray(6 + n, 6 + n + b[5 + n]!).toString('ascii')
  return { vramGb: b.readUInt32BE(0), gpuName, version }
}
const modelBytes = memoized((m) => new Uint8Array(Buffer.from(m, 'hex')))
/** A counted entry (`model:class key hex`, as COUNTED stores it), parsed. */
const parseEntry = memoized((entry) => {
  const [model, ck] = entry.split(':') as [string, string]
  return { model, ck: new Uint8Array(Buffer.from(ck, 'hex')) }
})
/** What a serving node is counted for: one entry per model it holds (`model:class key hex`, joined by commas). */
const entriesOf = memoized((json) => {
  const { models, ...c } = JSON.parse(json) as NodeClass & { models: string[] }
  const ck = Buffer.from(classKey(c)).toString('hex')
  return models.map((model) => `${model}:${ck}`).join(',')
})
const countedEntries = (n: Node): string => entriesOf(JSON.stringify({ gpuName: n.gpuName, vramGb: n.gpuVramGb, version: n.runnerVersion, models: n.modelIds }))

/**
 * The dispatch index (docs/decisions/0009, 0015): for every (model, GPU class, runner version) a
 * weighted set of the Available nodes of that class, with weights S·Q/(S+Q), and the count of its
 * serving (Available or Busy, not health-excluded) nodes. The classes encode every filter a task can
 * have, so the nodes meeting a task's filters are exactly the union of the classes that meet them:
 * counted exactly (for the sampling rate and the minimum-eligible rule) and drawn from with the
 * exact weighted distribution, in O(classes · log n). Kept in step with every node and QoS change
 * by the hooks wired in modules/index.ts.
 */
export class DispatchIndex {
  constructor(
    private readonly staking: StakingKeeper,
    private readonly qos: QosKeeper,
    /** The node's unjudged answers (collateral.ts), counted by the keeper. */
    private readonly unjudgedAnswers: (ctx: Context | QueryContext, node: Uint8Array) => bigint,
  ) {}

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  /** The Available nodes of a class (first tasks are drawn here) or, with `pool` 'serving', its Available and Busy nodes (seats). */
  private classSet(ctx: Context | QueryContext, model: string, ck: Uint8Array, pool: Pool = 'available'): WeightedSet {
    return new WeightedSet(new PrefixStore(this.kv(ctx), key(pool === 'available' ? CLASS : SEAT_CLASS, modelBytes(model), Uint8Array.of(ck.length), ck)))
  }

  /** The class keys a node belongs to, one per model it holds. */
  private nodeClasses(n: Node): Array<{ model: string; ck: Uint8Array }> {
    const ck = classKey({ gpuName: n.gpuName, vramGb: n.gpuVramGb, version: n.runnerVersion })
    return n.modelIds.map((model) => ({ model, ck }))
  }

  /**
   * A node's dispatch weight S·Q/(S+Q), with Q its QoS at this block; 0 (out of the index) while
   * health-excluded. Set when the node or its QoS changes: health that recovers with time raises
   * the stored weight at the node's next event (see docs/decisions/0009).
   */
  private weight(ctx: Context, node: Node): bigint {
    if (this.qos.isExcluded(ctx, node.address)) return 0n
    const q = this.qos.value(ctx, node.address, ctx.block.timeSeconds)
    return dispatchWeight(BigInt(node.stake), BigInt(this.staking.params(ctx).maxStake), q)
  }

  /**
   * Whether the node's stake backs one more first-task answer besides its unjudged ones (collateral.ts,
   * docs/decisions/0024; the keeper reindexes the node when that changes). A node whose stake does not
   * stays out of the first tasks' sets, as a health-excluded node does, so the draw stays exact.
   */
  private backsAnother(ctx: Context, node: Node): boolean {
    const unjudged = this.unjudgedAnswers(ctx, decodeBech32(node.address).data)
    return stakeBacksAnotherAnswer(BigInt(node.stake), BigInt(this.staking.params(ctx).minStake), unjudged)
  }

  /** Whether a node serves (Available or Busy, not health-excluded): counted as eligible, and where seats are drawn. */
  isServing(ctx: Context, node: Node): boolean {
    return (node.status === NodeStatus.NODE_STATUS_AVAILABLE || node.status === NodeStatus.NODE_STATUS_BUSY) && !this.qos.isExcluded(ctx, node.address)
  }

  /** Keeps each class's set equal to its Available nodes, the seat pool to its serving nodes, and its serving count exact. */
  reindexNode(ctx: Context, before: Node | undefined, after: Node | undefined): void {
    const id = decodeBech32((after ?? before)!.address).data
    // Serving: Available or Busy, and not health-excluded. What a node is counted for is stored,
    // so that a change of status, models, class or exclusion moves exactly its own counts.
    const serving = !!after && this.isServing(ctx, after)
    const next = serving ? countedEntries(after) : ''
    const counted = key(COUNTED, id)
    const prev = Buffer.from(this.kv(ctx).get(counted) ?? new Uint8Array()).toString()
    const prevEntries = prev ? prev.split(',') : []
    const nextEntries = next ? next.split(',') : []
    if (prev !== next) {
      for (const e of prevEntries) this.addServing(ctx, e, -1n)
      for (const e of nextEntries) this.addServing(ctx, e, 1n)
      if (next) this.kv(ctx).set(counted, Buffer.from(next))
      else this.kv(ctx).delete(counted)
      // The seat pool follows the serving count: a node leaves the classes it is no longer counted in.
      for (const e of prevEntries) if (!nextEntries.includes(e)) this.seatSet(ctx, e).remove(id)
    }
    // A serving node is never health-excluded, so its weight is positive.
    const w = serving ? this.weight(ctx, after!) : 0n
    // Seats are drawn from every serving node, Busy or not, with the same weight (docs/decisions/0024).
    if (w > 0n) for (const e of nextEntries) this.seatSet(ctx, e).set(id, w)
    if (before?.status === NodeStatus.NODE_STATUS_AVAILABLE) for (const c of this.nodeClasses(before)) this.classSet(ctx, c.model, c.ck).remove(id)
    if (after?.status === NodeStatus.NODE_STATUS_AVAILABLE && w > 0n && this.backsAnother(ctx, after))
      for (const c of this.nodeClasses(after)) this.classSet(ctx, c.model, c.ck).set(id, w)
  }

  /** The seat pool of a counted entry (`model:class key hex`, as COUNTED stores it). */
  private seatSet(ctx: Context, entry: string): WeightedSet {
    const { model, ck } = parseEntry(entry)
    return this.classSet(ctx, model, ck, 'serving')
  }

  private addServing(ctx: Context, entry: string, delta: bigint): void {
    const { model, ck } = parseEntry(entry)
    const k = key(SERVING, modelBytes(model), ck)
    const v = this.kv(ctx).get(k)
    const n = (v ? Buffer.from(v).readBigUInt64BE() : 0n) + delta
    if (n > 0n) this.kv(ctx).set(k, u64be(n))
    else this.kv(ctx).delete(k)
  }

  /** The node classes of the task's model that meet its filters, with their serving counts. */
  private async eligibleClasses(ctx: Context | QueryContext, r: Requirements): Promise<Array<{ ck: Uint8Array; serving: bigint }>> {
    const prefix = key(SERVING, modelBytes(r.modelIds[0]!))
    const out: Array<{ ck: Uint8Array; serving: bigint }> = []
    for await (const [k, v] of this.kv(ctx).iterate({ start: prefix, end: prefixEnd(prefix) })) {
      const ck = k.subarray(prefix.length)
      if (classMeets(parseClassKey(ck), r)) out.push({ ck: Uint8Array.from(ck), serving: Buffer.from(v).readBigUInt64BE() })
    }
    return out
  }

  /**
   * How many serving nodes (Available or Busy, not health-excluded) meet every filter of a task:
   * the network size its sampling rate is computed for, and what must reach min_eligible_nodes.
   * Busy nodes count: they take tasks again when they finish theirs.
   */
  async eligibleCount(ctx: Context | QueryContext, r: Requirements): Promise<bigint> {
    const classes = await this.eligibleClasses(ctx, r)
    if (r.sameGpuGroupOf !== undefined) {
      const sizes = [...gpuGroupSizes(classes).values()].filter((n) => n >= r.sameGpuGroupOf!)
      return sizes.length ? sizes.reduce((a, b) => (b < a ? b : a)) : 0n
    }
    let n = 0n
    for (const c of classes) n += c.serving
    return n
  }

  /**
   * A weighted random choice among the Available nodes meeting the task's filters (with `pool`
   * 'serving': the Available and Busy ones), skipping `excluded`: a class is chosen with probability
   * proportional to its remaining weight, then a node within it, so every eligible node is chosen with
   * probability weight/total. `seed` gives 32 random bytes per use.
   */
  async pickNode(
    ctx: Context,
    t: Task,
    excluded: Uint8Array[],
    seed: (use: string) => Uint8Array,
    sameGpuGroupOf?: bigint,
    pool: Pool = 'available',
  ): Promise<Node | undefined> {
    const model = t.modelIds[0]!
    const classes: Array<{ set: WeightedSet; weight: bigint }> = []
    let total = 0n
    let eligible = await this.eligibleClasses(ctx, requirementsOf(t))
    if (sameGpuGroupOf !== undefined) {
      const sizes = gpuGroupSizes(eligible)
      eligible = eligible.filter((c) => sizes.get(parseClassKey(c.ck).gpuName)! >= sameGpuGroupOf)
    }
    for (const c of eligible) {
      const set = this.classSet(ctx, model, c.ck, pool)
      const weight = set.totalExcluding(excluded)
      if (weight > 0n) {
        classes.push({ set, weight })
        total += weight
      }
    }
    if (total === 0n) return undefined
    let r = uniformBelow(seed('class'), total)
    const chosen = classes.find((c) => {
      if (r < c.weight) return true
      r -= c.weight
      return false
    })!
    const id = chosen.set.draw(seed('node'), excluded)
    return id ? this.staking.getNodeByBytes(ctx, id) : undefined
  }
}

/** Serving nodes per GPU class name (summed over VRAM and runner versions). */
function gpuGroupSizes(classes: Array<{ ck: Uint8Array; serving: bigint }>): Map<string, bigint> {
  const sizes = new Map<string, bigint>()
  for (const c of classes) {
    const name = parseClassKey(c.ck).gpuName
    sizes.set(name, (sizes.get(name) ?? 0n) + c.serving)
  }
  return sizes
}
