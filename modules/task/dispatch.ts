import type { Context, QueryContext } from '../../chain/context.ts'
import { PrefixStore } from '../../chain/store/prefix.ts'
import { u64be } from '../../chain/store/encoding.ts'
import type { KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import type { Task } from '../../proto/gen/beryl/task/v1/types.ts'
import { versionCompatible } from '../common/models.ts'
import { type QosKeeper, dispatchWeight } from '../qos/index.ts'
import { type Node, NodeStatus, type StakingKeeper } from '../staking/index.ts'
import { MODULE } from './errors.ts'
import { CLASS, COUNTED, SERVING, key } from './keys.ts'
import { WeightedSet } from './selection.ts'

/** Draws per task before it waits for a later block (each draw removes one ineligible node). */
const MAX_DRAWS = 16

export interface Requirements { modelIds: string[]; minVramGb: number; requiredGpu: string; requiredGpuVramGb: number; taskVersion: string }

/** The hard filters of dispatch (besides status and health, which the index already applies). */
export function nodeMeets(node: Node, r: Requirements): boolean {
  if (r.requiredGpu) {
    if (node.gpuName !== r.requiredGpu || node.gpuVramGb < r.requiredGpuVramGb) return false
  } else if (node.gpuVramGb < r.minVramGb) {
    return false
  }
  if (!versionCompatible(node.runnerVersion, r.taskVersion)) return false
  return r.modelIds.every((m) => node.modelIds.includes(m))
}

/**
 * The dispatch index (docs/decisions/0009): per model, a weighted set of the Available nodes holding
 * it, with weights S·Q/(S+Q); and per model, the count of serving (Available or Busy, not
 * health-excluded) nodes. Kept in step with every node and QoS change by the hooks wired in
 * modules/index.ts.
 */
export class DispatchIndex {
  constructor(private readonly staking: StakingKeeper, private readonly qos: QosKeeper) {}

  private kv(ctx: Context | QueryContext): KVStore { return ctx.kv(MODULE) }

  private classSet(ctx: Context | QueryContext, modelId: string): WeightedSet {
    return new WeightedSet(new PrefixStore(this.kv(ctx), key(CLASS, Buffer.from(modelId, 'hex'))))
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
   * Keeps the per-model sets equal to "Available nodes holding the model", with current weights,
   * and the per-model count of serving (Available or Busy) nodes.
   */
  reindexNode(ctx: Context, before: Node | undefined, after: Node | undefined): void {
    const id = decodeBech32((after ?? before)!.address).data
    // Serving: Available or Busy, and not health-excluded. What a node is counted for is stored,
    // so that a change of status, models or exclusion moves exactly its own counts.
    const serving = after && (after.status === NodeStatus.NODE_STATUS_AVAILABLE || after.status === NodeStatus.NODE_STATUS_BUSY) && !this.qos.isExcluded(ctx, after.address)
    const next = serving ? after.modelIds.join(',') : ''
    const counted = key(COUNTED, id)
    const prev = Buffer.from(this.kv(ctx).get(counted) ?? new Uint8Array()).toString()
    if (prev !== next) {
      for (const m of prev ? prev.split(',') : []) this.addServing(ctx, m, -1n)
      for (const m of next ? next.split(',') : []) this.addServing(ctx, m, 1n)
      if (next) this.kv(ctx).set(counted, Buffer.from(next))
      else this.kv(ctx).delete(counted)
    }
    if (before?.status === NodeStatus.NODE_STATUS_AVAILABLE) for (const m of before.modelIds) this.classSet(ctx, m).remove(id)
    if (after?.status === NodeStatus.NODE_STATUS_AVAILABLE) {
      const w = this.weight(ctx, after)
      if (w > 0n) for (const m of after.modelIds) this.classSet(ctx, m).set(id, w)
    }
  }

  private addServing(ctx: Context, modelId: string, delta: bigint): void {
    const k = key(SERVING, Buffer.from(modelId, 'hex'))
    const v = this.kv(ctx).get(k)
    const n = (v ? Buffer.from(v).readBigUInt64BE() : 0n) + delta
    if (n > 0n) this.kv(ctx).set(k, u64be(n))
    else this.kv(ctx).delete(k)
  }

  /**
   * How many nodes serve (Available or Busy, not health-excluded) the task's first model: the network size the sampling
   * rate is computed for, and what must be at least 3 for a task to be cross-validatable. Busy
   * nodes count: they take the task when they finish theirs (a validation group's later members
   * are created while the first runs).
   */
  eligibleCount(ctx: Context | QueryContext, modelIds: string[]): bigint {
    const v = this.kv(ctx).get(key(SERVING, Buffer.from([...modelIds].sort()[0]!, 'hex')))
    return v ? Buffer.from(v).readBigUInt64BE() : 0n
  }

  /**
   * Weighted random choice among eligible nodes, by rejection: draw from the Available nodes holding
   * the task's first model, skipping `excluded`; a drawn node that fails another filter is excluded
   * and the draw repeated. The result has exactly the weighted distribution over eligible nodes, at
   * O(k log n) reads for k draws. `draw(i)` gives the i-th draw's 32 random bytes.
   */
  pickNode(ctx: Context, t: Task, excluded: Uint8Array[], draw: (i: number) => Uint8Array): Node | undefined {
    const set = this.classSet(ctx, t.modelIds[0]!)
    if (set.size() === 0) return undefined
    const req: Requirements = { modelIds: t.modelIds, minVramGb: t.minVramGb, requiredGpu: t.requiredGpu, requiredGpuVramGb: t.requiredGpuVramGb, taskVersion: t.taskVersion }
    for (let i = 0; i < MAX_DRAWS; i++) {
      const id = set.draw(draw(i), excluded)
      if (!id) return undefined
      const node = this.staking.getNodeByBytes(ctx, id)
      if (node && node.status === NodeStatus.NODE_STATUS_AVAILABLE && nodeMeets(node, req)) return node
      excluded.push(id)
    }
    return undefined
  }
}
