import type { Context, QueryContext } from '../../chain/context.ts'
import { event } from '../../chain/events.ts'
import { decodedByValue } from '../../chain/store/memo.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import { NodeQos } from '../../proto/gen/beryl/qos/v1/types.ts'
import { NodeStatus, type StakingKeeper } from '../staking/index.ts'
import {
  EXCLUDE_EXIT,
  QOS_SCALE,
  effectiveHealth,
  exclusionAfter,
  onSuccess,
  onTimeout,
  pushScore,
  qLong,
  qosValue,
  secondsUntilHealth,
  shouldKickOut,
} from './math.ts'

import { MODULE } from './errors.ts'
import { NODE, REINCLUDE, nodeKey, reincludeKey } from './keys.ts'

/** Called when a node's QoS value or exclusion changed (the task module re-weights its dispatch index). */
export type QosHook = (ctx: Context, node: string) => void

/**
 * Crynux's relay QoS, kept in state and changed only by task outcomes:
 * group ranks feed Q_long; timeouts lower health (excluding a node below 0.2 until it recovers
 * to 0.8); successes raise it; a node with 50 samples and Q_long < 2 is kicked out.
 */

// Read several times per dispatch index change (exclusion, then the value for the weight).
const decodeQos = decodedByValue((v) => NodeQos.decode(v))
export class QosKeeper {
  private readonly hooks: QosHook[] = []
  constructor(private readonly staking: StakingKeeper) {}

  onQosChange(h: QosHook): void {
    this.hooks.push(h)
  }

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  get(ctx: Context | QueryContext, node: string): NodeQos {
    const v = this.kv(ctx).get(nodeKey(decodeBech32(node).data))
    return v ? decodeQos(v) : { node, scores: [], healthBase: QOS_SCALE.toString(), healthBaseTime: 0n, excluded: false, excludedUntil: 0n }
  }

  private put(ctx: Context, q: NodeQos): void {
    this.kv(ctx).set(nodeKey(decodeBech32(q.node).data), NodeQos.encode(q).finish())
    for (const h of this.hooks) h(ctx, q.node)
  }

  health(q: NodeQos, now: bigint): bigint {
    return effectiveHealth(BigInt(q.healthBase), q.healthBaseTime, now)
  }
  qLong(q: NodeQos): bigint {
    return qLong(q.scores.map(BigInt))
  }

  /** QoS = (Q_long / 10) · H at block time `now`. */
  value(ctx: Context | QueryContext, node: string, now: bigint): bigint {
    const q = this.get(ctx, node)
    return qosValue(this.qLong(q), this.health(q, now))
  }

  isExcluded(ctx: Context | QueryContext, node: string): boolean {
    return this.get(ctx, node).excluded
  }

  /** A validation-group task score (10/5/2 by speed, or 0). Kicks the node out if its record is poor enough. */
  recordScore(ctx: Context, node: string, score: bigint): void {
    if (!this.staking.getNode(ctx, node)) return
    const q = this.get(ctx, node)
    const window = pushScore({ scores: q.scores.map(BigInt) }, score)
    const next = { ...q, scores: window.scores.map(Number) }
    this.put(ctx, next)
    ctx.emit(event('qos_score', { node, score: score.toString(), samples: String(window.scores.length) }))
    const n = this.staking.getNode(ctx, node)
    if (shouldKickOut(window) && n && n.status !== NodeStatus.NODE_STATUS_BUSY && n.status !== NodeStatus.NODE_STATUS_UNBONDING) {
      this.staking.kickOut(ctx, node, `Q_long ${window.scores.reduce((a, b) => a + b, 0n)}/${window.scores.length} below 2.0 over 50 tasks`)
    }
  }

  /** A node-attributed timeout (execution or result upload): health ×0.95 on a first one, else ×0.3. */
  penalizeTimeout(ctx: Context, node: string): void {
    if (!this.staking.getNode(ctx, node)) return
    const now = ctx.block.timeSeconds
    const q = this.get(ctx, node)
    const h = onTimeout(this.health(q, now))
    const excluded = exclusionAfter(q.excluded, h)
    const next: NodeQos = { ...q, healthBase: h.toString(), healthBaseTime: now, excluded }
    if (q.excluded) this.kv(ctx).delete(reincludeKey(q.excludedUntil, decodeBech32(node).data))
    if (excluded) {
      next.excludedUntil = now + secondsUntilHealth(h, EXCLUDE_EXIT)
      this.kv(ctx).set(reincludeKey(next.excludedUntil, decodeBech32(node).data), new Uint8Array())
    }
    this.put(ctx, next)
    ctx.emit(
      event('qos_health', { node, health: h.toString(), excluded: String(excluded), ...(excluded ? { excluded_until: next.excludedUntil.toString() } : {}) }),
    )
  }

  /** A delivered result or a group match: health +0.15 (at most 1). */
  reward(ctx: Context, node: string): void {
    if (!this.staking.getNode(ctx, node)) return
    const now = ctx.block.timeSeconds
    const q = this.get(ctx, node)
    const h = onSuccess(this.health(q, now))
    const excluded = exclusionAfter(q.excluded, h)
    if (q.excluded && !excluded) this.kv(ctx).delete(reincludeKey(q.excludedUntil, decodeBech32(node).data))
    this.put(ctx, { ...q, healthBase: h.toString(), healthBaseTime: now, excluded, excludedUntil: excluded ? q.excludedUntil : 0n })
    ctx.emit(event('qos_health', { node, health: h.toString(), excluded: String(excluded) }))
  }

  /** EndBlock: nodes whose health has recovered to 0.8 take tasks again. */
  async reinclude(ctx: Context): Promise<void> {
    const kv = this.kv(ctx)
    const due: Uint8Array[] = []
    for await (const [k] of kv.iterate({ start: Uint8Array.of(REINCLUDE), end: reincludeKey(ctx.block.timeSeconds + 1n, new Uint8Array()), limit: 1000 }))
      due.push(k)
    for (const k of due) {
      kv.delete(k)
      const n = this.staking.getNodeByBytes(ctx, k.subarray(9))
      if (!n) continue
      const q = this.get(ctx, n.address)
      this.put(ctx, { ...q, excluded: false, excludedUntil: 0n })
      ctx.emit(event('qos_health', { node: n.address, excluded: 'false' }))
    }
  }

  /** Every node's record, in address order (genesis export). */
  async exportState(ctx: Context | QueryContext): Promise<NodeQos[]> {
    const out: NodeQos[] = []
    for await (const [, v] of this.kv(ctx).iterate({ start: Uint8Array.of(NODE), end: prefixEnd(Uint8Array.of(NODE)) })) out.push(NodeQos.decode(v))
    return out
  }

  /** Genesis import of an exported record (an excluded node goes back on the re-inclusion schedule). */
  importNodeQos(ctx: Context, q: NodeQos): void {
    if (q.excluded) this.kv(ctx).set(reincludeKey(q.excludedUntil, decodeBech32(q.node).data), new Uint8Array())
    this.put(ctx, q)
  }

  /** Forgets a node's record when it leaves (a rejoin starts fresh, as in Crynux). */
  forget(ctx: Context, node: string): void {
    const q = this.get(ctx, node)
    if (q.excluded) this.kv(ctx).delete(reincludeKey(q.excludedUntil, decodeBech32(node).data))
    this.kv(ctx).delete(nodeKey(decodeBech32(node).data))
  }
}
