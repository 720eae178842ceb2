import { createHash } from 'node:crypto'
import { BinaryWriter } from '@bufbuild/protobuf/wire'
import type { Context, QueryContext } from '../../chain/context.ts'
import { event } from '../../chain/events.ts'
import { u64be } from '../../chain/store/encoding.ts'
import { LastDecoded } from '../../chain/store/memo.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import { AbortReason, Params, Task, TaskError, TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { type BankKeeper, FEE_COLLECTOR } from '../bank/index.ts'
import { DENOM } from '../common/amounts.ts'
import type { QosKeeper } from '../qos/index.ts'
import { type Node, NodeStatus, type StakingKeeper } from '../staking/index.ts'
import { SamplingError, VALIDATION_GROUP_SIZE, type VssKeeper } from '../vss/index.ts'
import { isUnjudgedAnswer, stakeBacksAnotherAnswer } from './collateral.ts'
import { DispatchIndex, type Requirements } from './dispatch.ts'
import { MODULE, TaskErrors } from './errors.ts'
import {
  BY_CREATOR,
  BY_NODE,
  BY_STATUS,
  DEADLINE,
  HEADS,
  OPEN_BY_NODE,
  PARAMS_KEY,
  QUEUE,
  QUEUED_COUNT_KEY,
  RESERVED,
  SEQUENCE_KEY,
  BLOCK_SEQUENCE_KEY,
  SIGNATURE_QUEUE,
  U128_MAX,
  UNSEEDED,
  deadlineKey,
  holdKey,
  HOLD,
  key,
  queueOrder,
  taskKey,
  unjudgedKey,
} from './keys.ts'
import { DEFAULT_PARAMS } from './params.ts'
import { type ImageArgs, type TextArgs, validateImageArgs, validateTextArgs } from './schema.ts'
import { type Settlement, type TaskOutcome, settle, settledAtGroupValidation } from './settlement.ts'
import { type GroupMember, TaskRuleError, groupOutcome, isTerminal, validateScore } from './validation.ts'

const u64 = u64be
/** A seat's entry in its node's reservations (the node's seats in the order they were created). */
const reservedKey = (t: Task) => key(RESERVED, decodeBech32(t.selectedNode).data, u64(t.sequence))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** A task's revealed answer as evidence: the score in hex, "error" for an error report, "unrevealed" for a commitment never opened. */
const scoreText = (t: Task) => (t.salt.length === 0 ? 'unrevealed' : t.score.length === 0 ? 'error' : hex(t.score))

/** A validation group's evidence, recorded with each slash it causes. */
interface GroupEvidence {
  groupTasks: string[]
  groupScores: string[]
  resultHashes: string[]
  groupCommitments: string[]
  groupSalts: string[]
}
const NO_EVIDENCE: GroupEvidence = { groupTasks: [], groupScores: [], resultHashes: [], groupCommitments: [], groupSalts: [] }

/** What a node commits to: sha256(score ‖ salt); an error report is the empty score. */
export function scoreCommitment(score: Uint8Array, salt: Uint8Array): Uint8Array {
  return sha256(score, salt)
}
const SEAT_TAG = Buffer.from('beryl/validation-task')
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** Bounded work per block: tasks started, dispatch signatures looked at, timeouts processed. */
const MAX_DISPATCH_PER_BLOCK = 200
const MAX_HEADS_PER_BLOCK = 1000
const MAX_TIMEOUTS_PER_BLOCK = 1000

/** Seconds a task is expected to take, from its arguments (Crynux's creation-time estimate, in integers). */
export function estimateSeconds(type: TaskType, args: ImageArgs | TextArgs): bigint {
  if (type === TaskType.TASK_TYPE_IMAGE) {
    const a = args as ImageArgs
    // 30 s overhead + 10 s per 512×512 pixel-step.
    const units = BigInt(a.num_images) * BigInt(a.width) * BigInt(a.height) * BigInt(a.steps)
    return 30n + (units * 10n + 262_143n) / 262_144n
  }
  const a = args as TextArgs
  const inputBytes = BigInt(Buffer.byteLength(JSON.stringify(a.messages), 'utf8'))
  // 30 s + 0.1 ms per input byte + 0.1 s per output token.
  return 30n + (inputBytes + 9_999n) / 10_000n + (BigInt(a.max_new_tokens) + 9n) / 10n
}

/** Fee per estimated second per 8 GB of VRAM demanded (Crynux's queue priority). */
export function priority(fee: bigint, est: bigint, vramDemandGb: number): bigint {
  const p = (fee * 8n) / (est * BigInt(Math.max(vramDemandGb, 8)))
  return p > U128_MAX ? U128_MAX : p
}

/** What the task module reads of the validator module: the bonded set CometBFT runs, with each member's power. */
export interface BondedValidators {
  activeSet(ctx: Context | QueryContext): Array<{ account: string; power: bigint }>
}

/** Every task record is encoded by this writer: a fresh one grows its buffer twice per record (128 → 512 bytes). `finish()` copies out and resets it. */
const taskWriter = new BinaryWriter()

export class TaskKeeper {
  readonly dispatchIndex: DispatchIndex

  constructor(
    private readonly bank: BankKeeper,
    private readonly staking: StakingKeeper,
    private readonly qos: QosKeeper,
    private readonly vss: VssKeeper,
    private readonly validators: BondedValidators,
  ) {
    this.dispatchIndex = new DispatchIndex(staking, qos, (ctx, node) => this.unjudgedAnswers(ctx, node))
  }

  /** How many of the node's answers a validation group can still judge (collateral.ts); its stake must back each. */
  unjudgedAnswers(ctx: Context | QueryContext, node: Uint8Array): bigint {
    const v = this.kv(ctx).get(unjudgedKey(node))
    return v ? Buffer.from(v).readBigUInt64BE() : 0n
  }

  /** Whether the node holds any answer a validation group can still judge (its stake must not leave). */
  holdsUnjudgedAnswers(ctx: Context | QueryContext, node: string): boolean {
    return this.unjudgedAnswers(ctx, decodeBech32(node).data) > 0n
  }

  /**
   * Moves a node's count of unjudged answers by ±1. When that changes whether its stake backs one more
   * answer, an Available node enters or leaves the dispatch index at once (a Busy node is weighed when
   * it is released).
   */
  private addUnjudgedAnswer(ctx: Context, node: string, delta: 1n | -1n): void {
    const addr = decodeBech32(node).data
    const before = this.unjudgedAnswers(ctx, addr)
    const after = before + delta
    if (after < 0n) throw new Error(`task state: node ${node} has no unjudged answer to release`)
    if (after > 0n) this.kv(ctx).set(unjudgedKey(addr), u64(after))
    else this.kv(ctx).delete(unjudgedKey(addr))
    const n = this.staking.getNode(ctx, node)
    if (n?.status !== NodeStatus.NODE_STATUS_AVAILABLE) return
    const stake = BigInt(n.stake),
      min = BigInt(this.staking.params(ctx).minStake)
    if (stakeBacksAnotherAnswer(stake, min, before) !== stakeBacksAnotherAnswer(stake, min, after)) this.dispatchIndex.reindexNode(ctx, n, n)
  }

  /** Hook (wired in modules/index.ts): a node changed; the dispatch index follows. */
  onNodeChange(ctx: Context, before: Node | undefined, after: Node | undefined): void {
    this.dispatchIndex.reindexNode(ctx, before, after)
  }

  /** Hook (wired in modules/index.ts): a node's QoS or exclusion changed; its dispatch weight follows. */
  onQosChange(ctx: Context, address: string): void {
    const n = this.staking.getNode(ctx, address)
    if (n) this.dispatchIndex.reindexNode(ctx, n, n)
  }

  /** Serving nodes that meet every filter (the sampling rate's network size); without filters, every node of the model. */
  eligibleCount(ctx: Context | QueryContext, r: Requirements): Promise<bigint> {
    return this.dispatchIndex.eligibleCount(ctx, r)
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

  getTask(ctx: Context | QueryContext, commitment: Uint8Array): Task | undefined {
    const v = this.kv(ctx).get(taskKey(commitment))
    return v ? Task.decode(v) : undefined
  }
  /** Writes a task and keeps the creator, node and status indexes in step. Every change goes through here. */
  private putTask(ctx: Context, t: Task): void {
    const kv = this.kv(ctx)
    const old = this.getTask(ctx, t.taskIdCommitment)
    const seq = u64(t.sequence)
    if (!old) kv.set(key(BY_CREATOR, decodeBech32(t.creator).data, seq), t.taskIdCommitment)
    if (t.selectedNode && old?.selectedNode !== t.selectedNode) kv.set(key(BY_NODE, decodeBech32(t.selectedNode).data, seq), t.taskIdCommitment)
    if (old?.status !== t.status) {
      if (old) kv.delete(key(BY_STATUS, Uint8Array.of(old.status), seq))
      kv.set(key(BY_STATUS, Uint8Array.of(t.status), seq), t.taskIdCommitment)
    }
    if (t.selectedNode) {
      const open = key(OPEN_BY_NODE, decodeBech32(t.selectedNode).data, t.taskIdCommitment)
      if (isTerminal(t.status)) kv.delete(open)
      else kv.set(open, new Uint8Array())
    }
    kv.set(taskKey(t.taskIdCommitment), Task.encode(t, taskWriter).finish())
    // The count of unjudged answers follows every status change, whatever caused it (commit, validation,
    // judgement, abort, timeout, slash, genesis import), so it always equals the node's tasks in those statuses.
    const wasUnjudged = !!old?.selectedNode && isUnjudgedAnswer(old)
    const isUnjudged = !!t.selectedNode && isUnjudgedAnswer(t)
    const sameNode = old?.selectedNode === t.selectedNode
    if (wasUnjudged && !(isUnjudged && sameNode)) this.addUnjudgedAnswer(ctx, old!.selectedNode, -1n)
    if (isUnjudged && !(wasUnjudged && sameNode)) this.addUnjudgedAnswer(ctx, t.selectedNode, 1n)
  }

  /**
   * Tasks by creator, node or status, newest first; other filters apply within the chosen index.
   * At most `limit` tasks and 10 000 index entries per page.
   */
  async listTasks(
    ctx: QueryContext,
    f: { creator?: string; node?: string; status?: TaskStatus; key?: Uint8Array; limit: number },
  ): Promise<{ tasks: Task[]; nextKey: Uint8Array }> {
    const prefix = f.creator
      ? key(BY_CREATOR, decodeBech32(f.creator).data)
      : f.node
        ? key(BY_NODE, decodeBech32(f.node).data)
        : key(BY_STATUS, Uint8Array.of(f.status!))
    const end = f.key?.length ? Buffer.concat([prefix, f.key]) : prefixEnd(prefix)
    const tasks: Task[] = []
    let nextKey: Uint8Array = new Uint8Array()
    let scanned = 0
    for await (const [k, c] of this.kv(ctx).iterate({ start: prefix, end, reverse: true })) {
      if (tasks.length === f.limit || ++scanned > 10_000) {
        nextKey = Buffer.concat([k.subarray(prefix.length), Uint8Array.of(0)])
        break
      }
      const t = this.getTask(ctx, c)
      if (!t) continue
      if (f.node && t.selectedNode !== f.node) continue
      if (f.status !== undefined && t.status !== f.status) continue
      tasks.push(t)
    }
    return { tasks, nextKey }
  }

  /** Queued tasks in dispatch order. */
  async queue(ctx: QueryContext, limit: number): Promise<Task[]> {
    const out: Task[] = []
    for await (const [, c] of this.kv(ctx).iterate({ start: Uint8Array.of(QUEUE), end: Uint8Array.of(QUEUE + 1), limit })) {
      const t = this.getTask(ctx, c)
      if (t) out.push(t)
    }
    return out
  }

  // ---- genesis ------------------------------------------------------------------------------

  /** Every task in commitment order, and the next sequence (genesis export). */
  async exportState(ctx: Context | QueryContext): Promise<{ tasks: Task[]; nextSequence: bigint }> {
    const tasks: Task[] = []
    for await (const [, v] of this.kv(ctx).iterate({ start: taskKey(new Uint8Array()), end: prefixEnd(taskKey(new Uint8Array())) })) tasks.push(Task.decode(v))
    const seq = this.kv(ctx).get(SEQUENCE_KEY)
    return { tasks, nextSequence: seq ? Buffer.from(seq).readBigUInt64BE() : 0n }
  }

  /**
   * Genesis import of an exported task: the task and every index that follows from it (creator,
   * node and status indexes, the queue, deadlines, the seed queue).
   * Escrow is in the task module account (bank genesis).
   */
  async importTask(ctx: Context, t: Task): Promise<void> {
    if (this.getTask(ctx, t.taskIdCommitment)) throw new Error(`task genesis: task ${hex(t.taskIdCommitment)} is listed twice`)
    const kv = this.kv(ctx)
    this.putTask(ctx, t)
    if (t.status === TaskStatus.TASK_STATUS_QUEUED) {
      if (t.selectedNode) kv.set(reservedKey(t), t.taskIdCommitment)
      else await this.enqueue(ctx, t)
    }
    if (t.status === TaskStatus.TASK_STATUS_QUEUED && t.samplingSeed.length === 0 && t.validationOf.length === 0)
      kv.set(key(UNSEEDED, t.taskIdCommitment), new Uint8Array())
    if (t.deadline) kv.set(deadlineKey(t.deadline, t.taskIdCommitment), new Uint8Array())
    if (t.status === TaskStatus.TASK_STATUS_SCORE_READY && t.holdUntil) kv.set(holdKey(t.holdUntil, t.taskIdCommitment), new Uint8Array())
  }

  setNextSequence(ctx: Context, next: bigint): void {
    this.kv(ctx).set(SEQUENCE_KEY, u64(next))
  }

  // ---- creation and cancellation -----------------------------------------------------------

  async create(
    ctx: Context,
    m: {
      creator: string
      taskIdCommitment: Uint8Array
      nonce: Uint8Array
      taskType: TaskType
      args: string
      modelIds: string[]
      minVramGb: number
      requiredGpu: string
      requiredGpuVramGb: number
      taskVersion: string
      fee: bigint
      vrfPublicKey: Uint8Array
    },
  ): Promise<Task> {
    const params = this.params(ctx)
    if (Buffer.byteLength(m.args, 'utf8') > params.maxArgsBytes) throw TaskErrors.InvalidTask.with(`args exceed ${params.maxArgsBytes} bytes`)
    let parsed: unknown
    try {
      parsed = JSON.parse(m.args)
    } catch {
      throw TaskErrors.InvalidTask.with('args are not valid JSON')
    }
    let args: ImageArgs | TextArgs
    try {
      args = m.taskType === TaskType.TASK_TYPE_IMAGE ? validateImageArgs(parsed) : validateTextArgs(parsed)
    } catch (err) {
      throw TaskErrors.InvalidTask.with(`args: ${(err as Error).message}`)
    }
    if (this.getTask(ctx, m.taskIdCommitment)) throw TaskErrors.TaskExists.with(Buffer.from(m.taskIdCommitment).toString('hex'))
    // A task filters by registry classes only, so no node can be alone in a class of its own making.
    let requiredGpuVramGb = 0
    if (m.requiredGpu) {
      const c = this.staking.params(ctx).gpuClasses.find((x) => x.name === m.requiredGpu)
      if (!c) throw TaskErrors.InvalidTask.with(`required_gpu ${JSON.stringify(m.requiredGpu)} is not a class of the GPU registry`)
      if (m.requiredGpuVramGb && m.requiredGpuVramGb !== c.vramGb)
        throw TaskErrors.InvalidTask.with(`${c.name} has ${c.vramGb} GB in the registry, not ${m.requiredGpuVramGb}`)
      requiredGpuVramGb = c.vramGb
    }

    // The network this task can be run and cross-validated on: the serving nodes meeting every filter.
    const pinned = m.taskType === TaskType.TASK_TYPE_TEXT && !m.requiredGpu
    const req: Requirements = {
      modelIds: m.modelIds,
      minVramGb: m.minVramGb,
      requiredGpu: m.requiredGpu,
      taskVersion: m.taskVersion,
      ...(pinned ? { sameGpuGroupOf: BigInt(params.minEligibleNodes) } : {}),
    }
    const eligible = await this.eligibleCount(ctx, req)
    if (eligible < BigInt(params.minEligibleNodes)) {
      throw TaskErrors.TooFewNodes.with(
        `${eligible} serving nodes meet every filter of this task (model ${m.modelIds[0]}, ${m.requiredGpu ? `GPU ${m.requiredGpu}` : `≥ ${m.minVramGb} GB VRAM`}, runner ${m.taskVersion} or compatible${pinned ? ', in one GPU class: a text task is validated on its first node’s GPU class' : ''}); min_eligible_nodes is ${params.minEligibleNodes}`,
      )
    }
    let rate: bigint
    try {
      rate = this.vss.rate(ctx, m.fee, eligible).rate
    } catch (err) {
      if (err instanceof SamplingError && err.code === 'FEE_NOT_SECURABLE') throw TaskErrors.FeeNotSecurable.with(err.message)
      throw err
    }

    const est = estimateSeconds(m.taskType, args)
    const prio = priority(m.fee, est, m.requiredGpu ? requiredGpuVramGb : m.minVramGb)
    await this.makeRoom(ctx, params, prio)

    this.bank.sendFromAccountToModule(ctx, m.creator, MODULE, [{ denom: DENOM, amount: m.fee }])
    const t: Task = {
      taskIdCommitment: m.taskIdCommitment,
      creator: m.creator,
      nonce: m.nonce,
      taskType: m.taskType,
      args: m.args,
      argsHash: sha256(Buffer.from(m.args, 'utf8')),
      modelIds: [...m.modelIds].sort(),
      minVramGb: m.minVramGb,
      requiredGpu: m.requiredGpu,
      requiredGpuVramGb,
      taskVersion: m.taskVersion,
      fee: m.fee.toString(),
      vrfPublicKey: m.vrfPublicKey,
      samplingRate: rate.toString(),
      samplingSeed: new Uint8Array(),
      estimatedSeconds: est,
      validationOf: new Uint8Array(),
      ...this.queuedState(ctx, params),
    }
    this.putTask(ctx, t)
    const kv = this.kv(ctx)
    await this.enqueue(ctx, t)
    kv.set(deadlineKey(t.deadline, t.taskIdCommitment), new Uint8Array())
    kv.set(key(UNSEEDED, t.taskIdCommitment), new Uint8Array())
    ctx.emit(
      event('task_created', {
        task: hex(t.taskIdCommitment),
        creator: t.creator,
        fee: `${t.fee}${DENOM}`,
        sampling_rate: t.samplingRate,
        eligible_nodes: eligible.toString(),
        estimated_seconds: est.toString(),
      }),
    )
    return t
  }

  // ---- the queue -----------------------------------------------------------------------------
  //
  // Every queued task is in the global queue (dispatch order; the Queue query, eviction) and in the
  // queue of its dispatch signature: the tasks with exactly the same filters, which the same nodes
  // can run. Each signature's first task is listed in HEADS. Dispatch walks the heads in priority
  // order, so a signature no node can serve right now costs one look and never holds up the others.

  private priorityOf(t: Task): bigint {
    return priority(BigInt(t.fee), t.estimatedSeconds, t.requiredGpu ? t.requiredGpuVramGb : t.minVramGb)
  }

  /**
   * Tasks with equal filters share a signature (and so the same eligible nodes). A validation task
   * excludes its group's nodes, so it has a queue of its own and never holds up the others.
   */
  private signature(t: Task): Uint8Array {
    const vram = Buffer.alloc(4)
    vram.writeUInt32BE(t.minVramGb)
    return sha256(
      Buffer.from('beryl/dispatch-signature'),
      // A text task's extra rule (a GPU class large enough for its group) sets it apart from an image task.
      Uint8Array.of(t.taskType),
      Buffer.from(t.modelIds.join(','), 'ascii'),
      Uint8Array.of(0),
      Buffer.from(t.requiredGpu, 'utf8'),
      Uint8Array.of(0),
      vram,
      Buffer.from(t.taskVersion, 'ascii'),
      t.validationOf,
    )
  }

  /** The first (highest priority, oldest) entry of a signature's queue: its order bytes and commitment. */
  private async signatureHead(ctx: Context, sig: Uint8Array): Promise<{ order: Uint8Array; commitment: Uint8Array } | undefined> {
    const prefix = key(SIGNATURE_QUEUE, sig)
    for await (const [k, v] of this.kv(ctx).iterate({ start: prefix, end: prefixEnd(prefix), limit: 1 }))
      return { order: Uint8Array.from(k.subarray(prefix.length)), commitment: v }
    return undefined
  }

  private queuedCount(ctx: Context | QueryContext): bigint {
    const v = this.kv(ctx).get(QUEUED_COUNT_KEY)
    return v ? Buffer.from(v).readBigUInt64BE() : 0n
  }

  private async enqueue(ctx: Context, t: Task): Promise<void> {
    const kv = this.kv(ctx)
    const order = queueOrder(this.priorityOf(t), t.sequence)
    const sig = this.signature(t)
    const head = await this.signatureHead(ctx, sig)
    kv.set(key(QUEUE, order), t.taskIdCommitment)
    kv.set(key(SIGNATURE_QUEUE, sig, order), t.taskIdCommitment)
    if (!head || Buffer.compare(order, head.order) < 0) {
      if (head) kv.delete(key(HEADS, head.order, sig))
      kv.set(key(HEADS, order, sig), new Uint8Array())
    }
    kv.set(QUEUED_COUNT_KEY, u64(this.queuedCount(ctx) + 1n))
  }

  /** A queued task leaves the queue: a seat reserved on a node leaves that node's reservations, any other the queue. */
  private async leaveQueue(ctx: Context, t: Task): Promise<void> {
    if (t.selectedNode) this.kv(ctx).delete(reservedKey(t))
    else await this.dequeue(ctx, t)
  }

  private async dequeue(ctx: Context, t: Task): Promise<void> {
    const kv = this.kv(ctx)
    const order = queueOrder(this.priorityOf(t), t.sequence)
    const sig = this.signature(t)
    kv.delete(key(QUEUE, order))
    kv.delete(key(SIGNATURE_QUEUE, sig, order))
    if (kv.has(key(HEADS, order, sig))) {
      kv.delete(key(HEADS, order, sig))
      const next = await this.signatureHead(ctx, sig)
      if (next) kv.set(key(HEADS, next.order, sig), new Uint8Array())
    }
    kv.set(QUEUED_COUNT_KEY, u64(this.queuedCount(ctx) - 1n))
  }

  /**
   * A full queue admits a task only by evicting, with a full refund, the lowest-priority queued task,
   * and only if the new task's priority is above it: flooding the queue costs fees and can only
   * push out cheaper work, whose creators get their fees back.
   */
  private async makeRoom(ctx: Context, params: Params, prio: bigint): Promise<void> {
    if (this.queuedCount(ctx) < BigInt(params.maxQueuedTasks)) return
    // The lowest-priority queued task that is not a validation seat: a seat belongs to a group the
    // chain has started, and evicting it would end that group without a judgement.
    let victim: Task | undefined
    for await (const [, c] of this.kv(ctx).iterate({ start: Uint8Array.of(QUEUE), end: Uint8Array.of(QUEUE + 1), reverse: true, limit: 64 })) {
      const t = this.getTask(ctx, c)
      if (t && !t.validationOf.length) {
        victim = t
        break
      }
    }
    if (!victim || prio <= this.priorityOf(victim)) {
      throw TaskErrors.QueueFull.with(
        `${params.maxQueuedTasks} tasks are queued; raise the fee above priority ${victim ? this.priorityOf(victim) : 0n} to displace the lowest`,
      )
    }
    await this.dequeue(ctx, victim)
    this.endAborted(ctx, victim, AbortReason.ABORT_REASON_EVICTED)
  }

  async cancel(ctx: Context, creator: string, commitment: Uint8Array): Promise<void> {
    const t = this.mustGet(ctx, commitment)
    if (t.creator !== creator) throw TaskErrors.NotCreator.with(`task ${hex(commitment)} was created by ${t.creator}`)
    // A creator who could cancel a seat could end any group it is afraid of, without a slash.
    if (t.validationOf.length) throw TaskErrors.WrongStatus.with('a validation task belongs to the chain; it cannot be cancelled')
    if (t.status !== TaskStatus.TASK_STATUS_QUEUED)
      throw TaskErrors.WrongStatus.with(`only a queued task can be cancelled; this one is ${TaskStatus[t.status]}`)
    await this.dequeue(ctx, t)
    this.endAborted(ctx, t, AbortReason.ABORT_REASON_CREATOR_CANCELLED)
  }

  private mustGet(ctx: Context, commitment: Uint8Array): Task {
    const t = this.getTask(ctx, commitment)
    if (!t) throw TaskErrors.TaskNotFound.with(hex(commitment))
    return t
  }

  /** Ends a task in EndAborted with a full refund to its creator (the node, if any, is released). */
  private endAborted(ctx: Context, t: Task, reason: AbortReason): void {
    this.end(ctx, [t], [{ id: hex(t.taskIdCommitment), node: t.selectedNode || undefined, status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: reason }])
  }

  // ---- commitments and reveals ------------------------------------------------------------------
  //
  // A node never shows its answer before every answer it could be compared with is bound: it commits
  // sha256(score ‖ salt) (MsgSubmitScore) and opens it only when copying can no longer help anyone —
  // a single task with its upload (the attestation carries the reveal), a validation group once all
  // three members have committed (MsgRevealResult). An error report is committed as the empty score.

  /**
   * The selected node binds its answer: Started → ScoreReady (committed); the node is released: it takes its
   * reserved seats, and new first tasks while its stake backs one more unjudged answer (collateral.ts,
   * docs/decisions/0024).
   */
  async submitScore(ctx: Context, node: string, commitment: Uint8Array, scoreCommitment: Uint8Array): Promise<void> {
    const t = this.mustGet(ctx, commitment)
    this.mustBeRunningOn(t, node)
    if (scoreCommitment.length !== 32) throw TaskErrors.InvalidScore.with('score_commitment must be sha256(score ‖ salt): 32 bytes')
    const now = ctx.block.timeSeconds
    // T1 waits for its creator's validation; a validation task waits for the rest of its group.
    const params = this.params(ctx)
    const deadline = t.validationOf.length ? 0n : now + params.creatorValidationTimeout
    // A first task's answer counts against the node's stake for answer_hold seconds while it waits (collateral.ts).
    const holdUntil = t.validationOf.length || params.answerHold === 0n ? 0n : now + params.answerHold
    const next: Task = { ...t, status: TaskStatus.TASK_STATUS_SCORE_READY, scoreCommitment, scoreReadyTime: now, deadline, holdUntil }
    this.moveDeadline(ctx, t, next)
    if (holdUntil) this.kv(ctx).set(holdKey(holdUntil, t.taskIdCommitment), new Uint8Array())
    this.putTask(ctx, next)
    this.staking.release(ctx, t.selectedNode)
    this.emitTransition(ctx, t, next)
    if (t.validationOf.length) this.maybeOpenReveals(ctx, this.mustGet(ctx, t.validationOf))
  }

  /**
   * The node opens its commitment. A validation group's member: once all three members committed,
   * within the reveal window; the group is judged when the last reveal lands. A validated single task:
   * only an error report (a score is revealed by the attestation of its upload).
   */
  async revealResult(ctx: Context, node: string, commitment: Uint8Array, score: Uint8Array, salt: Uint8Array): Promise<void> {
    const t = this.mustGet(ctx, commitment)
    if (t.selectedNode !== node) throw TaskErrors.NotSelectedNode.with(`task ${hex(t.taskIdCommitment)} runs on ${t.selectedNode || 'no node'}`)
    this.checkOpens(t, score, salt)
    const root = t.validationOf.length ? this.getTask(ctx, t.validationOf) : t
    if (root && root.status === TaskStatus.TASK_STATUS_GROUP_PENDING) {
      if (!root.revealStart) throw TaskErrors.WrongStatus.with('reveals open when all three members of the validation group have committed')
      if (t.salt.length) throw TaskErrors.WrongStatus.with(`task ${hex(t.taskIdCommitment)} is already revealed`)
      if (t.status !== TaskStatus.TASK_STATUS_SCORE_READY && t.status !== TaskStatus.TASK_STATUS_GROUP_PENDING)
        throw TaskErrors.WrongStatus.with(`task ${hex(t.taskIdCommitment)} is ${TaskStatus[t.status]}`)
      this.putTask(ctx, { ...t, score, salt })
      ctx.emit(event('score_revealed', { task: hex(t.taskIdCommitment), node, score: score.length ? hex(score) : 'error', salt: hex(salt) }))
      const now = this.mustGet(ctx, root.taskIdCommitment)
      if (this.groupOf(ctx, now).every((m) => m.salt.length > 0 || isTerminal(m.status))) await this.finishGroup(ctx, now)
      return
    }
    if (t.status === TaskStatus.TASK_STATUS_VALIDATED) {
      if (score.length) throw TaskErrors.WrongStatus.with("a validated task's score is revealed by uploading its output to a gateway")
      this.endErrorReport(ctx, { ...t, salt, taskError: TaskError.TASK_ERROR_PARAMETERS_INVALID })
      return
    }
    throw TaskErrors.WrongStatus.with(`task ${hex(t.taskIdCommitment)} is ${TaskStatus[t.status]}: nothing to reveal now`)
  }

  /** Refuses a reveal that does not open the task's commitment, or a score of the wrong shape. */
  private checkOpens(t: Task, score: Uint8Array, salt: Uint8Array): void {
    if (t.scoreCommitment.length !== 32) throw TaskErrors.WrongStatus.with(`task ${hex(t.taskIdCommitment)} has no score commitment`)
    if (salt.length !== 32) throw TaskErrors.InvalidReveal.with(`the salt is 32 bytes, got ${salt.length}`)
    if (Buffer.compare(scoreCommitment(score, salt), t.scoreCommitment) !== 0)
      throw TaskErrors.InvalidReveal.with(`sha256(score ‖ salt) is not task ${hex(t.taskIdCommitment)}'s commitment ${hex(t.scoreCommitment)}`)
    if (score.length === 0) return
    try {
      validateScore(t.taskType, score)
    } catch (err) {
      throw TaskErrors.InvalidScore.with((err as Error).message)
    }
  }

  /**
   * An error report ends EndAborted(ErrorReported): the creator is refunded, the node is not paid,
   * and its health takes a timeout's penalty, so reporting errors is never cheaper than doing the
   * work. (In a validation group a report the others disagree with is slashed.)
   */
  private endErrorReport(ctx: Context, t: Task): void {
    this.end(
      ctx,
      [t],
      [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: AbortReason.ABORT_REASON_ERROR_REPORTED }],
    )
    this.qos.penalizeTimeout(ctx, t.selectedNode)
  }

  private mustBeRunningOn(t: Task, node: string): void {
    if (t.selectedNode !== node) throw TaskErrors.NotSelectedNode.with(`task ${hex(t.taskIdCommitment)} runs on ${t.selectedNode || 'no node'}`)
    if (t.status !== TaskStatus.TASK_STATUS_STARTED) throw TaskErrors.WrongStatus.with(`the task is ${TaskStatus[t.status]}, not STARTED`)
  }

  private moveDeadline(ctx: Context, before: Task, after: Task): void {
    const kv = this.kv(ctx)
    if (before.deadline) kv.delete(deadlineKey(before.deadline, before.taskIdCommitment))
    if (after.deadline) kv.set(deadlineKey(after.deadline, after.taskIdCommitment), new Uint8Array())
  }

  private emitTransition(ctx: Context, from: Task, to: Task, extra: Record<string, string> = {}): void {
    ctx.emit(
      event('task_status', {
        task: hex(to.taskIdCommitment),
        node: to.selectedNode,
        from: TaskStatus[from.status],
        to: TaskStatus[to.status],
        ...(to.abortReason ? { reason: AbortReason[to.abortReason] } : {}),
        ...extra,
      }),
    )
  }

  // ---- validation (verifiable secret sampling) ------------------------------------------------

  /**
   * The creator reveals the task id and its ECVRF proof over the task's sampling seed, after the
   * node's commitment is in a block. Not selected: the task is Validated and waits for its upload.
   * Selected: the chain creates the two validation tasks itself (the creator escrows their fees)
   * and the task waits for its group (GroupPending).
   */
  async validate(ctx: Context, creator: string, commitments: Uint8Array[], taskId: Uint8Array, proof: Uint8Array): Promise<void> {
    if (commitments.length !== 1)
      throw TaskErrors.InvalidValidation.with(`give exactly one task, got ${commitments.length}: the chain creates a selected task's validation tasks itself`)
    const t = this.mustGet(ctx, commitments[0]!)
    if (t.creator !== creator) throw TaskErrors.NotCreator.with(`task ${hex(t.taskIdCommitment)} was created by ${t.creator}`)
    if (t.validationOf.length) throw TaskErrors.InvalidValidation.with('a validation task is judged with its group, not validated by the creator')
    if (Buffer.compare(sha256(taskId, t.nonce), t.taskIdCommitment) !== 0) {
      throw TaskErrors.InvalidValidation.with(`sha256(task_id ‖ nonce) does not match task ${hex(t.taskIdCommitment)}`)
    }
    if (t.status !== TaskStatus.TASK_STATUS_SCORE_READY)
      throw TaskErrors.WrongStatus.with(`a task is validated once its node's score commitment is in a block; this one is ${TaskStatus[t.status]}`)
    if (t.samplingSeed.length === 0) throw TaskErrors.InvalidValidation.with('the task has no sampling seed yet; validate after its creation block')
    const selected = this.vss.selected(t.vrfPublicKey, proof, t.samplingSeed, BigInt(t.samplingRate))
    if (selected === undefined) throw TaskErrors.InvalidValidation.with("the VRF proof does not verify with the task's vrf_public_key over its sampling seed")
    const now = ctx.block.timeSeconds
    if (!selected) {
      const v: Task = { ...t, status: TaskStatus.TASK_STATUS_VALIDATED, validatedTime: now, deadline: now + this.params(ctx).resultUploadTimeout }
      this.moveDeadline(ctx, t, v)
      this.putTask(ctx, v)
      this.emitTransition(ctx, t, v)
      return
    }
    await this.spawnGroup(ctx, t)
  }

  /**
   * T1 → GroupPending, and two validation tasks with T1's arguments, model and filters (a text task's
   * seats are pinned to T1's GPU class: exact-hash comparison needs the same hardware), whose fees
   * the creator escrows now. Dispatch excludes every node that has held a seat of the group.
   */
  private async spawnGroup(ctx: Context, t: Task): Promise<void> {
    const fee = BigInt(t.fee)
    const seats = Number(VALIDATION_GROUP_SIZE) - 1
    const balance = this.bank.balance(ctx, t.creator, DENOM)
    if (balance < fee * BigInt(seats))
      throw TaskErrors.InvalidValidation.with(
        `the VRF selected this task: its ${seats} validation tasks escrow ${fee * BigInt(seats)}${DENOM} from the creator, who has ${balance}${DENOM}`,
      )
    let pinned: { requiredGpu: string; requiredGpuVramGb: number } | undefined
    if (t.taskType === TaskType.TASK_TYPE_TEXT) {
      const n = this.staking.getNode(ctx, t.selectedNode)
      if (n) pinned = { requiredGpu: n.gpuName, requiredGpuVramGb: n.gpuVramGb }
    }
    const now = ctx.block.timeSeconds
    let root: Task = {
      ...t,
      status: TaskStatus.TASK_STATUS_GROUP_PENDING,
      validatedTime: now,
      deadline: 0n,
      groupNodes: [t.selectedNode],
      validationTasks: [],
      seatRetries: 0,
      revealStart: 0n,
    }
    this.moveDeadline(ctx, t, root)
    for (let i = 0; i < seats; i++) root = { ...root, validationTasks: [...root.validationTasks, await this.newSeat(ctx, root, i, pinned)] }
    this.putTask(ctx, root)
    this.emitTransition(ctx, t, root, { validation_tasks: root.validationTasks.map(hex).join(',') })
  }

  /** Everything of a task that its run sets, as it is when the task enters the queue now (with the next sequence). */
  private queuedState(ctx: Context, params: Params) {
    const seqRaw = this.kv(ctx).get(SEQUENCE_KEY)
    const sequence = seqRaw ? Buffer.from(seqRaw).readBigUInt64BE() : 0n
    this.kv(ctx).set(SEQUENCE_KEY, u64(sequence + 1n))
    const now = ctx.block.timeSeconds
    return {
      status: TaskStatus.TASK_STATUS_QUEUED,
      abortReason: AbortReason.ABORT_REASON_NONE,
      taskError: TaskError.TASK_ERROR_NONE,
      selectedNode: '',
      score: new Uint8Array(),
      createTime: now,
      startTime: 0n,
      scoreReadyTime: 0n,
      validatedTime: 0n,
      endTime: 0n,
      deadline: now + params.queueTimeout,
      sequence,
      resultHash: new Uint8Array(),
      attestations: [],
      groupPayees: [],
      scoreCommitment: new Uint8Array(),
      salt: new Uint8Array(),
      validationTasks: [],
      groupNodes: [],
      seatRetries: 0,
      revealStart: 0n,
      holdUntil: 0n,
    }
  }

  /** A validation task for seat number `n` of T1's group (n counts every seat ever created, so ids never repeat). */
  private async newSeat(ctx: Context, root: Task, n: number, pinned?: { requiredGpu: string; requiredGpuVramGb: number }): Promise<Uint8Array> {
    const params = this.params(ctx)
    const idx = Buffer.alloc(4)
    idx.writeUInt32BE(n)
    const commitment = sha256(SEAT_TAG, root.taskIdCommitment, idx)
    this.bank.sendFromAccountToModule(ctx, root.creator, MODULE, [{ denom: DENOM, amount: BigInt(root.fee) }])
    const first = this.getTask(ctx, root.validationTasks[0] ?? new Uint8Array())
    const seat: Task = {
      ...root,
      taskIdCommitment: commitment,
      nonce: new Uint8Array(),
      vrfPublicKey: new Uint8Array(),
      samplingRate: '0',
      samplingSeed: new Uint8Array(),
      // A later seat keeps the class the first seats were pinned to.
      requiredGpu: pinned?.requiredGpu ?? first?.requiredGpu ?? root.requiredGpu,
      requiredGpuVramGb: pinned?.requiredGpuVramGb ?? first?.requiredGpuVramGb ?? root.requiredGpuVramGb,
      validationOf: root.taskIdCommitment,
      ...this.queuedState(ctx, params),
    }
    this.putTask(ctx, seat)
    await this.enqueue(ctx, seat)
    this.kv(ctx).set(deadlineKey(seat.deadline, commitment), new Uint8Array())
    ctx.emit(event('validation_task_created', { task: hex(commitment), validation_of: hex(root.taskIdCommitment), fee: `${seat.fee}${DENOM}` }))
    return commitment
  }

  /** T1 and its seats' current validation tasks. */
  private groupOf(ctx: Context, root: Task): Task[] {
    return [root, ...root.validationTasks.map((c) => this.mustGet(ctx, c))]
  }

  /** When every seat has committed, the reveals open for `reveal_window` seconds. */
  private maybeOpenReveals(ctx: Context, root: Task): void {
    if (root.status !== TaskStatus.TASK_STATUS_GROUP_PENDING || root.revealStart) return
    const seats = root.validationTasks.map((c) => this.mustGet(ctx, c))
    if (!seats.every((s) => s.status === TaskStatus.TASK_STATUS_SCORE_READY)) return
    const now = ctx.block.timeSeconds
    const open: Task = { ...root, revealStart: now, deadline: now + this.params(ctx).revealWindow }
    this.moveDeadline(ctx, root, open)
    this.putTask(ctx, open)
    // Marked on every member, so each node (and its gateway) sees from its own task that it must reveal.
    for (const s of seats) this.putTask(ctx, { ...s, revealStart: now })
    ctx.emit(
      event('group_reveal', {
        task: hex(root.taskIdCommitment),
        members: [root, ...seats].map((m) => hex(m.taskIdCommitment)).join(','),
        nodes: [root, ...seats].map((m) => m.selectedNode).join(','),
        deadline: open.deadline.toString(),
      }),
    )
  }

  /**
   * A seat's validation task ended without an answer (timed out, or its node was slashed). Before
   * the reveals, the seat is given to another eligible node, at most `max_seat_retries` times; past
   * that the group ends with refunds and nobody is slashed.
   */
  private async seatFailed(ctx: Context, seat: Task): Promise<void> {
    const root = this.getTask(ctx, seat.validationOf)
    if (!root || root.status !== TaskStatus.TASK_STATUS_GROUP_PENDING || root.revealStart) return
    if (root.seatRetries >= this.params(ctx).maxSeatRetries) {
      await this.endGroup(ctx, root, AbortReason.ABORT_REASON_SEAT_UNFILLED)
      return
    }
    const n = Number(VALIDATION_GROUP_SIZE) - 1 + root.seatRetries
    const replacement = await this.newSeat(ctx, root, n)
    const next: Task = {
      ...root,
      seatRetries: root.seatRetries + 1,
      validationTasks: root.validationTasks.map((c) => (Buffer.compare(c, seat.taskIdCommitment) === 0 ? replacement : c)),
    }
    this.putTask(ctx, next)
    ctx.emit(event('validation_seat_retried', { task: hex(root.taskIdCommitment), failed: hex(seat.taskIdCommitment), replacement: hex(replacement) }))
  }

  /** Ends a pending group without judging it: every open member is refunded, nobody is paid or slashed. */
  private async endGroup(ctx: Context, root: Task, reason: AbortReason): Promise<void> {
    for (const m of this.groupOf(ctx, root)) {
      if (isTerminal(m.status)) continue
      if (m.status === TaskStatus.TASK_STATUS_QUEUED) await this.leaveQueue(ctx, m)
      this.endAborted(ctx, m, reason)
    }
  }

  /**
   * All three members revealed, or the reveal window passed: the group table decides. A member that
   * did not reveal is slashed as a mismatch (docs/decisions/0020); an honest node that crashed
   * reveals from the answer and salt it keeps on disk.
   */
  private async finishGroup(ctx: Context, root: Task): Promise<void> {
    const tasks = this.groupOf(ctx, root)
    const members: GroupMember[] = tasks.map((t) => {
      const ended = isTerminal(t.status)
      const revealed = t.salt.length > 0
      const status = ended ? t.status : revealed && t.score.length === 0 ? TaskStatus.TASK_STATUS_ERROR_REPORTED : TaskStatus.TASK_STATUS_SCORE_READY
      return {
        id: hex(t.taskIdCommitment),
        node: t.selectedNode || undefined,
        type: t.taskType,
        status,
        abortReason: t.abortReason,
        score: t.score,
        startTime: t.startTime,
        scoreReadyTime: t.scoreReadyTime,
        sequence: t.sequence,
        unrevealed: !ended && !revealed,
      }
    })
    let outcome
    try {
      outcome = groupOutcome(members, { hammingThreshold: this.params(ctx).hammingThreshold })
    } catch (err) {
      throw TaskErrors.InvalidValidation.with((err as Error).message)
    }
    const byId = new Map(tasks.map((t) => [hex(t.taskIdCommitment), t]))
    const now = ctx.block.timeSeconds
    // Members that end now (refunds, invalidations, aborts) settle at once; the representative
    // waits for its result upload.
    const ending = settledAtGroupValidation(outcome)
    const endingIds = new Set(ending.map((o) => o.id))
    for (const m of outcome.members) {
      if (!m.changed || endingIds.has(m.id)) continue
      const t = byId.get(m.id)!
      if (m.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED) {
        const payees = outcome.matching.map((p) => ({ taskIdCommitment: byId.get(p.id)!.taskIdCommitment, node: p.node, qosScore: p.qosScore }))
        const v: Task = {
          ...t,
          status: TaskStatus.TASK_STATUS_GROUP_VALIDATED,
          validatedTime: now,
          deadline: now + this.params(ctx).resultUploadTimeout,
          groupPayees: payees,
        }
        this.moveDeadline(ctx, t, v)
        this.putTask(ctx, v)
        this.emitTransition(ctx, t, v)
      }
    }
    // The evidence of a slash, kept in state: every member's task id, commitment, reveal (score,
    // "error" or "unrevealed"), salt and result hash; revealed members in speed order first.
    const order = [...outcome.ranked, ...tasks.map((t) => hex(t.taskIdCommitment)).filter((id) => !outcome.ranked.includes(id))]
    const evidence: GroupEvidence = {
      groupTasks: order,
      groupScores: order.map((id) => scoreText(byId.get(id)!)),
      resultHashes: order.map((id) => hex(byId.get(id)!.resultHash)),
      groupCommitments: order.map((id) => hex(byId.get(id)!.scoreCommitment)),
      groupSalts: order.map((id) => hex(byId.get(id)!.salt)),
    }
    const slashed = this.end(
      ctx,
      ending.map((o) => byId.get(o.id)!),
      ending,
      evidence,
    )
    // QoS: speed ranks (or 0) feed Q_long; a group match is a success for health.
    for (const m of outcome.members) {
      if (!m.node) continue
      if (m.qosScore !== null) this.qos.recordScore(ctx, m.node, BigInt(m.qosScore))
      if (m.status === TaskStatus.TASK_STATUS_END_GROUP_REFUND) this.qos.reward(ctx, m.node)
    }
    for (const node of slashed) await this.abortTasksOfSlashedNode(ctx, node)
  }

  // ---- attestation and settlement -------------------------------------------------------------

  /**
   * A bonded validator's gateway checked the uploaded output against the score and attests its
   * result hash (docs/decisions/0023). Each validator's attestation is recorded on the task; the task
   * settles when validators holding at least 2/3 of the bonded power (the active set as it is in this
   * block) attested the same hash: Validated → EndSuccess (the upload carried the reveal: score and
   * salt must open the node's commitment, and the score is recorded), GroupValidated →
   * EndGroupSuccess (the score was revealed in the group). An attestation of another hash is kept,
   * visible in queries, and changes nothing. A validator attests once; the same attestation again is
   * accepted without effect but counts the power anew (so a task whose attesters reached 2/3 only
   * after a set change still settles), another hash from it is refused. A late attestation, of a
   * task that settled in an earlier tx, is recorded and changes nothing else (every gateway attests
   * what it checked; the slowest of them is not made to pay for a failed tx).
   */
  attest(ctx: Context, attester: string, commitment: Uint8Array, resultHash: Uint8Array, score: Uint8Array, salt: Uint8Array): void {
    const set = this.validators.activeSet(ctx)
    const power = new Map(set.map((v) => [v.account, v.power]))
    if (!power.has(attester)) throw TaskErrors.NotAttester.with(`${attester} is not in the bonded validator set`)
    const t = this.mustGet(ctx, commitment)
    if (resultHash.length !== 32) throw TaskErrors.InvalidValidation.with('result_hash must be 32 bytes')
    // A task that settled in an earlier tx takes the attestation as a record only (late: no payment, no settlement).
    const late = t.status === TaskStatus.TASK_STATUS_END_SUCCESS || t.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS
    const single = t.status === TaskStatus.TASK_STATUS_VALIDATED
    if (!late && !single && t.status !== TaskStatus.TASK_STATUS_GROUP_VALIDATED)
      throw TaskErrors.WrongStatus.with(`only a validated task waiting for its output (or a settled one) can be attested; this one is ${TaskStatus[t.status]}`)
    if (single) {
      if (score.length === 0) throw TaskErrors.InvalidReveal.with("a validated task's attestation carries the revealed score and salt")
      this.checkOpens(t, score, salt)
    }
    const mine = t.attestations.find((a) => a.validator === attester)
    if (mine && Buffer.compare(mine.resultHash, resultHash) !== 0)
      throw TaskErrors.AlreadyAttested.with(`${attester} attested result ${hex(mine.resultHash)} for task ${hex(commitment)}; an attestation cannot be changed`)
    const attested: Task = mine ? t : { ...t, attestations: [...t.attestations, { validator: attester, resultHash, height: ctx.block.height }] }
    if (!mine) {
      this.putTask(ctx, attested)
      ctx.emit(event('result_attested', { task: hex(commitment), validator: attester, result_hash: hex(resultHash), ...(late ? { late: 'true' } : {}) }))
    }
    if (late) return

    // Power at the time of counting: only members of this block's active set count, with their power now.
    const total = set.reduce((a, v) => a + v.power, 0n)
    const agreeing = attested.attestations.filter((a) => power.has(a.validator) && Buffer.compare(a.resultHash, resultHash) === 0)
    const agreed = agreeing.reduce((a, v) => a + power.get(v.validator)!, 0n)
    if (total === 0n || 3n * agreed < 2n * total) return
    const validators = agreeing.map((a) => a.validator).sort()
    ctx.emit(
      event('result_settled', {
        task: hex(commitment),
        result_hash: hex(resultHash),
        validators: validators.join(','),
        power: agreed.toString(),
        total_power: total.toString(),
      }),
    )
    if (single) {
      this.end(
        ctx,
        [{ ...attested, resultHash, score, salt }],
        [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: TaskStatus.TASK_STATUS_END_SUCCESS }],
      )
    } else {
      const matching = t.groupPayees.map((p) => ({ id: hex(p.taskIdCommitment), node: p.node, qosScore: p.qosScore }))
      this.end(
        ctx,
        [{ ...attested, resultHash }],
        [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: TaskStatus.TASK_STATUS_END_GROUP_SUCCESS, matching }],
      )
    }
    this.qos.reward(ctx, t.selectedNode)
  }

  /** Moves tasks to their terminal statuses and pays out of escrow: refunds, node income, protocol share, slashes. */
  /** Returns the nodes it slashed. */
  private end(ctx: Context, tasks: Task[], outcomes: TaskOutcome[], evidence: GroupEvidence = NO_EVIDENCE): string[] {
    const slashed: string[] = []
    const fees = new Map(tasks.map((t) => [hex(t.taskIdCommitment), BigInt(t.fee)]))
    let s: Settlement
    try {
      s = settle(outcomes, fees, { protocolFeeShare: BigInt(this.params(ctx).protocolFeeShare), splitGroupFee: this.vss.params(ctx).splitGroupFee })
    } catch (err) {
      if (err instanceof TaskRuleError) throw TaskErrors.InvalidValidation.with(err.message)
      throw err
    }
    const byId = new Map(tasks.map((t) => [hex(t.taskIdCommitment), t]))
    const now = ctx.block.timeSeconds
    for (const o of outcomes) {
      const t = byId.get(o.id)!
      const ended: Task = { ...t, status: o.status, abortReason: o.abortReason ?? AbortReason.ABORT_REASON_NONE, endTime: now, deadline: 0n }
      this.moveDeadline(ctx, t, ended)
      this.putTask(ctx, ended)
      if (t.status === TaskStatus.TASK_STATUS_STARTED && t.selectedNode) this.staking.release(ctx, t.selectedNode)
      this.emitTransition(ctx, t, ended)
    }
    for (const tr of s.transfers) {
      const coins = [{ denom: DENOM, amount: tr.amount }]
      if (tr.to.kind === 'creator') this.bank.sendFromModuleToAccount(ctx, MODULE, byId.get(tr.taskId)!.creator, coins)
      // The protocol's share joins the transaction fees the validator module pays to the active validators.
      else if (tr.to.kind === 'protocol') this.bank.sendFromModuleToModule(ctx, MODULE, FEE_COLLECTOR, coins)
      else {
        this.bank.sendFromModuleToAccount(ctx, MODULE, tr.to.node, coins)
        this.staking.recordEarning(ctx, tr.to.node, tr.amount)
      }
      const to = tr.to.kind === 'node' ? `node:${tr.to.node}` : tr.to.kind
      ctx.emit(event('task_payment', { task: tr.taskId, to, amount: `${tr.amount}${DENOM}`, reason: tr.reason }))
    }
    for (const sl of s.slashes) {
      if (!this.staking.getNode(ctx, sl.node)) continue // already slashed by another group
      const t = byId.get(sl.taskId)!
      this.staking.slash(ctx, sl.node, { task: sl.taskId, reason: sl.reason, score: scoreText(t), ...evidence })
      slashed.push(sl.node)
    }
    return slashed
  }

  /**
   * A slashed node's other open tasks end EndAborted(NodeSlashed) with a full refund, whatever their
   * status: running, scored or reported and waiting for validation, validated and waiting for the
   * upload. Nothing a slashed node did is paid. The node's open tasks are indexed exactly.
   */
  private async abortTasksOfSlashedNode(ctx: Context, node: string): Promise<void> {
    const prefix = key(OPEN_BY_NODE, decodeBech32(node).data)
    const open: Task[] = []
    for await (const [k] of this.kv(ctx).iterate({ start: prefix, end: prefixEnd(prefix) })) {
      const t = this.getTask(ctx, k.subarray(prefix.length))
      if (t && !isTerminal(t.status)) open.push(t)
    }
    for (const t of open) {
      const now = this.mustGet(ctx, t.taskIdCommitment)
      if (isTerminal(now.status)) continue // ended with a group ended earlier in this loop
      if (now.status === TaskStatus.TASK_STATUS_GROUP_PENDING) {
        // T1's node is gone: its group ends without a judgement, every member refunded.
        await this.endGroup(ctx, now, AbortReason.ABORT_REASON_NODE_SLASHED)
        continue
      }
      if (now.status === TaskStatus.TASK_STATUS_QUEUED) await this.leaveQueue(ctx, now) // a seat reserved on it
      this.endAborted(ctx, now, AbortReason.ABORT_REASON_NODE_SLASHED)
      if (now.validationOf.length) await this.seatFailed(ctx, now)
    }
  }

  // ---- end of block: timeouts, sampling seeds, dispatch ------------------------------------

  async endBlock(ctx: Context): Promise<void> {
    await this.processTimeouts(ctx)
    await this.endHolds(ctx)
    let r: Uint8Array | undefined
    const randomness = () => (r ??= this.vss.randomness(ctx))
    // With the chain seed from validators' VRFs (decision 0022), a task queued in this block waits for the
    // next block's seed, which nobody knew when the task was committed; before the enable height the seed
    // is public anyway, and a task is seeded and dispatched in the block that queues it.
    const fresh = this.vss.seedFromVoteExtensions(ctx) ? this.blockSequence(ctx) : undefined
    await this.fixSamplingSeeds(ctx, randomness, fresh)
    await this.dispatch(ctx, randomness, fresh)
    const next = this.kv(ctx).get(SEQUENCE_KEY)
    if (next && !Buffer.from(next).equals(Buffer.from(this.kv(ctx).get(BLOCK_SEQUENCE_KEY) ?? []))) this.kv(ctx).set(BLOCK_SEQUENCE_KEY, next)
  }

  /** The first sequence a task queued in this block has (tasks at or above it are this block's). */
  private blockSequence(ctx: Context): bigint {
    const v = this.kv(ctx).get(BLOCK_SEQUENCE_KEY)
    return v ? Buffer.from(v).readBigUInt64BE() : 0n
  }

  /**
   * A deadline is the last second allowed: a task times out in the first block whose time is
   * strictly after it (one second before or at the deadline, the task goes on).
   */
  private async processTimeouts(ctx: Context): Promise<void> {
    const kv = this.kv(ctx)
    const end = key(DEADLINE, u64(ctx.block.timeSeconds))
    const due: Uint8Array[] = []
    for await (const [k] of kv.iterate({ start: Uint8Array.of(DEADLINE), end, limit: MAX_TIMEOUTS_PER_BLOCK })) due.push(k)
    for (const k of due) {
      const t = this.getTask(ctx, k.subarray(9))
      if (!t) {
        kv.delete(k)
        continue
      }
      if (t.status === TaskStatus.TASK_STATUS_QUEUED) {
        await this.leaveQueue(ctx, t)
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_TIMEOUT)
        // No eligible node took the seat for a whole queue timeout: the group cannot be completed.
        const root = t.validationOf.length ? this.getTask(ctx, t.validationOf) : undefined
        if (root?.status === TaskStatus.TASK_STATUS_GROUP_PENDING) await this.endGroup(ctx, root, AbortReason.ABORT_REASON_SEAT_UNFILLED)
      } else if (t.status === TaskStatus.TASK_STATUS_STARTED) {
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_TIMEOUT)
        this.qos.penalizeTimeout(ctx, t.selectedNode)
        if (t.validationOf.length) await this.seatFailed(ctx, t)
      } else if (t.status === TaskStatus.TASK_STATUS_GROUP_PENDING) {
        // The reveal window closed: the group is judged with what was revealed.
        await this.finishGroup(ctx, t)
      } else if (t.status === TaskStatus.TASK_STATUS_SCORE_READY) {
        // The creator never validated: the node is paid for its work (Crynux's rule). Only T1 has this
        // deadline, and only before validation: a task whose group is pending is GroupPending.
        this.end(
          ctx,
          [t],
          [
            {
              id: hex(t.taskIdCommitment),
              node: t.selectedNode,
              status: TaskStatus.TASK_STATUS_END_ABORTED,
              abortReason: AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT,
            },
          ],
        )
      } else if (t.status === TaskStatus.TASK_STATUS_VALIDATED || t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED) {
        // The node never delivered a result that matched its score: refund.
        this.end(
          ctx,
          [t],
          [
            {
              id: hex(t.taskIdCommitment),
              node: t.selectedNode,
              status: TaskStatus.TASK_STATUS_END_ABORTED,
              abortReason: AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT,
            },
          ],
        )
        this.qos.penalizeTimeout(ctx, t.selectedNode)
      } else {
        kv.delete(k)
      }
    }
  }

  /**
   * Holds end like deadlines, in the first block whose time is past hold_until: a first-task answer still
   * waiting for its creator stops counting against its node's stake (collateral.ts, docs/decisions/0026), and an
   * Available node backed again enters the dispatch index before this block's dispatch. An entry whose task
   * has left ScoreReady (validated, ended) is only removed: the task's count moved when its status did.
   */
  private async endHolds(ctx: Context): Promise<void> {
    const kv = this.kv(ctx)
    const due: Uint8Array[] = []
    for await (const [k] of kv.iterate({ start: Uint8Array.of(HOLD), end: key(HOLD, u64(ctx.block.timeSeconds)), limit: MAX_TIMEOUTS_PER_BLOCK })) due.push(k)
    for (const k of due) {
      kv.delete(k)
      const t = this.getTask(ctx, k.subarray(9))
      if (!t || t.status !== TaskStatus.TASK_STATUS_SCORE_READY || t.holdUntil === 0n) continue
      this.putTask(ctx, { ...t, holdUntil: 0n })
      ctx.emit(event('answer_hold_ended', { task: hex(t.taskIdCommitment), node: t.selectedNode }))
    }
  }

  private async fixSamplingSeeds(ctx: Context, randomness: () => Uint8Array, fresh?: bigint): Promise<void> {
    const kv = this.kv(ctx)
    const pending: Uint8Array[] = []
    for await (const [k] of kv.iterate({ start: Uint8Array.of(UNSEEDED), end: Uint8Array.of(UNSEEDED + 1) })) pending.push(k)
    for (const k of pending) {
      const t = this.getTask(ctx, k.subarray(1))
      if (t && fresh !== undefined && t.sequence >= fresh) continue // queued in this block: next block's seed
      kv.delete(k)
      if (!t) continue
      const seed = this.vss.samplingSeed(randomness(), t.taskIdCommitment)
      this.putTask(ctx, { ...t, samplingSeed: seed })
      ctx.emit(event('sampling_seed', { task: hex(t.taskIdCommitment), sampling_seed: hex(seed) }))
    }
  }

  /**
   * Starts queued tasks. First the reserved seats: every node that is free takes its oldest one
   * (startReserved). Then the signatures' heads in priority order (at most MAX_HEADS_PER_BLOCK looked
   * at), and within a signature its tasks in order while an eligible node is Available. A signature
   * whose head no Available node can take is passed over at the cost of one look.
   *
   * A first task goes to an Available node. A validation seat is drawn from every serving node, Busy
   * or not (docs/decisions/0024): the sampling rate prices the attack on the odds that the two seats
   * are a uniform draw from the eligible nodes, and a draw among the nodes that happen to be free
   * would favour whoever is free most often — a faker, who answers at once, over an honest node that
   * computes. A seat drawn on a Busy node waits for it (reserve).
   */
  private async dispatch(ctx: Context, randomness: () => Uint8Array, fresh?: bigint): Promise<void> {
    let started = await this.startReserved(ctx)
    const sigs: Uint8Array[] = []
    for await (const [k] of this.kv(ctx).iterate({ start: Uint8Array.of(HEADS), end: Uint8Array.of(HEADS + 1), limit: MAX_HEADS_PER_BLOCK }))
      sigs.push(Uint8Array.from(k.subarray(1 + 24)))
    for (const sig of sigs) {
      while (started < MAX_DISPATCH_PER_BLOCK && this.staking.availableCount(ctx) > 0n) {
        const head = await this.signatureHead(ctx, sig)
        const t = head && this.getTask(ctx, head.commitment)
        if (!t) break
        if (fresh !== undefined && t.sequence >= fresh) break // queued in this block: dispatched with the next block's seed
        // A validation task never goes to a node that has held a seat of its group (T1's node first).
        const root = t.validationOf.length ? this.getTask(ctx, t.validationOf) : undefined
        const excluded = (root?.groupNodes ?? []).map((a) => decodeBech32(a).data)
        // A text task without a GPU class runs only where a group of its class can be formed.
        const sameGpu = t.taskType === TaskType.TASK_TYPE_TEXT && !t.requiredGpu ? BigInt(this.params(ctx).minEligibleNodes) : undefined
        const node = await this.dispatchIndex.pickNode(
          ctx,
          t,
          excluded,
          (use) => sha256(randomness(), t.taskIdCommitment, Buffer.from(`dispatch/${use}`)),
          sameGpu,
          root ? 'serving' : 'available',
        )
        if (!node) break
        if (node.status === NodeStatus.NODE_STATUS_AVAILABLE) await this.start(ctx, t, node)
        else await this.reserve(ctx, t, node)
        started++
      }
      if (started >= MAX_DISPATCH_PER_BLOCK || this.staking.availableCount(ctx) === 0n) break
    }
  }

  /**
   * A validation seat drawn on a Busy node waits for it: it leaves the queue, is marked with its node
   * and joins the node's reservations, which the node takes before anything else once it is free. The
   * node is in the group from now on, so no other seat of the group is drawn on it.
   */
  private async reserve(ctx: Context, t: Task, node: Node): Promise<void> {
    await this.dequeue(ctx, t)
    const root = this.mustGet(ctx, t.validationOf)
    this.putTask(ctx, { ...root, groupNodes: [...root.groupNodes, node.address] })
    const reserved: Task = { ...t, selectedNode: node.address }
    this.putTask(ctx, reserved)
    this.kv(ctx).set(reservedKey(reserved), t.taskIdCommitment)
    ctx.emit(event('validation_seat_reserved', { task: hex(t.taskIdCommitment), node: node.address, validation_of: hex(t.validationOf) }))
  }

  /**
   * Every node that is Available now takes its oldest reserved seat. A node that no longer serves
   * (paused, quitting, excluded by its health, gone) gives its reservations up: each seat ends
   * EndAborted(NodeLeft), the node's health takes a timeout's penalty, and the group gets a new seat, as when a
   * seat's node times out.
   */
  private async startReserved(ctx: Context): Promise<number> {
    const kv = this.kv(ctx)
    const entries: Array<[Uint8Array, Uint8Array]> = []
    for await (const [k, v] of kv.iterate({ start: Uint8Array.of(RESERVED), end: Uint8Array.of(RESERVED + 1) }))
      entries.push([Uint8Array.from(k), Uint8Array.from(v)])
    const took = new Set<string>()
    let started = 0
    for (const [k, commitment] of entries) {
      const t = this.getTask(ctx, commitment)
      if (!t || t.status !== TaskStatus.TASK_STATUS_QUEUED) {
        kv.delete(k) // not reachable: a reserved seat leaves its reservation whenever it leaves Queued
        continue
      }
      const node = this.staking.getNode(ctx, t.selectedNode)
      if (!node || !this.dispatchIndex.isServing(ctx, node)) {
        await this.leaveQueue(ctx, t)
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_NODE_LEFT)
        // Shedding a seat it was given costs what letting it time out costs: otherwise pausing would be the free way
        // out of a seat (a node still staked; a slashed or removed one has nothing left to penalize).
        if (node) this.qos.penalizeTimeout(ctx, t.selectedNode)
        await this.seatFailed(ctx, t)
        continue
      }
      if (node.status !== NodeStatus.NODE_STATUS_AVAILABLE || took.has(node.address)) continue
      took.add(node.address)
      await this.start(ctx, t, node)
      started++
    }
    return started
  }

  private async start(ctx: Context, t: Task, node: Node): Promise<void> {
    const kv = this.kv(ctx)
    const params = this.params(ctx)
    const now = ctx.block.timeSeconds
    const reserved = !!t.selectedNode
    await this.leaveQueue(ctx, t)
    kv.delete(deadlineKey(t.deadline, t.taskIdCommitment))
    this.staking.setBusy(ctx, node.address)
    if (t.validationOf.length && !reserved) {
      const root = this.mustGet(ctx, t.validationOf)
      this.putTask(ctx, { ...root, groupNodes: [...root.groupNodes, node.address] })
    }
    const timeout = clamp(2n * t.estimatedSeconds, params.minExecutionTimeout, params.maxExecutionTimeout)
    const started: Task = { ...t, status: TaskStatus.TASK_STATUS_STARTED, selectedNode: node.address, startTime: now, deadline: now + timeout }
    kv.set(deadlineKey(started.deadline, t.taskIdCommitment), new Uint8Array())
    this.putTask(ctx, started)
    ctx.emit(
      event('task_status', {
        task: hex(t.taskIdCommitment),
        node: node.address,
        from: 'TASK_STATUS_QUEUED',
        to: 'TASK_STATUS_STARTED',
        deadline: started.deadline.toString(),
      }),
    )
  }
}

const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v)
