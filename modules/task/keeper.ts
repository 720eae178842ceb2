import { createHash } from 'node:crypto'
import type { Context, QueryContext } from '../../chain/context.ts'
import { event } from '../../chain/events.ts'
import { u64be } from '../../chain/store/encoding.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import { AbortReason, Params, Task, TaskError, TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { type BankKeeper, FEE_COLLECTOR } from '../bank/index.ts'
import { DENOM } from '../common/amounts.ts'
import type { QosKeeper } from '../qos/index.ts'
import { type Node, type StakingKeeper } from '../staking/index.ts'
import { SamplingError, type VssKeeper } from '../vss/index.ts'
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
  RECEIVED,
  SEQUENCE_KEY,
  SIGNATURE_QUEUE,
  U128_MAX,
  UNSEEDED,
  deadlineKey,
  key,
  queueOrder,
  taskKey,
} from './keys.ts'
import { DEFAULT_PARAMS } from './params.ts'
import { type ImageArgs, type TextArgs, validateImageArgs, validateTextArgs } from './schema.ts'
import { type Settlement, type TaskOutcome, settle, settledAtGroupValidation } from './settlement.ts'
import { type GroupMember, TaskRuleError, groupOutcome, isTerminal, singleOutcome, validateScore } from './validation.ts'

const u64 = u64be
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** A member's score as evidence: hex, or "error" for an error report. */
const scoreText = (t: Task) => (t.status === TaskStatus.TASK_STATUS_ERROR_REPORTED ? 'error' : hex(t.score))

/** A validation group's evidence, recorded with each slash it causes. */
interface GroupEvidence {
  groupTasks: string[]
  groupScores: string[]
  resultHashes: string[]
}
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

export class TaskKeeper {
  readonly dispatchIndex: DispatchIndex

  constructor(
    private readonly bank: BankKeeper,
    private readonly staking: StakingKeeper,
    private readonly qos: QosKeeper,
    private readonly vss: VssKeeper,
  ) {
    this.dispatchIndex = new DispatchIndex(staking, qos)
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

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    return v ? Params.decode(v) : DEFAULT_PARAMS
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
    kv.set(taskKey(t.taskIdCommitment), Task.encode(t).finish())
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
   * node and status indexes, the queue, deadlines, the seed queue, the group-window records).
   * Escrow is in the task module account (bank genesis).
   */
  async importTask(ctx: Context, t: Task): Promise<void> {
    if (this.getTask(ctx, t.taskIdCommitment)) throw new Error(`task genesis: task ${hex(t.taskIdCommitment)} is listed twice`)
    const kv = this.kv(ctx)
    this.putTask(ctx, t)
    if (t.status === TaskStatus.TASK_STATUS_QUEUED) await this.enqueue(ctx, t)
    if (t.status === TaskStatus.TASK_STATUS_QUEUED && t.samplingSeed.length === 0) kv.set(key(UNSEEDED, t.taskIdCommitment), new Uint8Array())
    if (t.deadline) kv.set(deadlineKey(t.deadline, t.taskIdCommitment), new Uint8Array())
    if (t.selectedNode && t.startTime) {
      const k = key(RECEIVED, sha256(Buffer.from(t.creator, 'utf8'), t.argsHash), decodeBech32(t.selectedNode).data)
      const prev = kv.get(k)
      if (!prev || Buffer.from(prev).readBigUInt64BE() < t.startTime) kv.set(k, u64(t.startTime))
    }
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
    const req: Requirements = { modelIds: m.modelIds, minVramGb: m.minVramGb, requiredGpu: m.requiredGpu, taskVersion: m.taskVersion }
    const eligible = await this.eligibleCount(ctx, req)
    if (eligible < BigInt(params.minEligibleNodes)) {
      throw TaskErrors.TooFewNodes.with(
        `${eligible} serving nodes meet every filter of this task (model ${m.modelIds[0]}, ${m.requiredGpu ? `GPU ${m.requiredGpu}` : `≥ ${m.minVramGb} GB VRAM`}, runner ${m.taskVersion} or compatible); min_eligible_nodes is ${params.minEligibleNodes}`,
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
    const seqRaw = this.kv(ctx).get(SEQUENCE_KEY)
    const sequence = seqRaw ? Buffer.from(seqRaw).readBigUInt64BE() : 0n
    this.kv(ctx).set(SEQUENCE_KEY, u64(sequence + 1n))
    const now = ctx.block.timeSeconds
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
      status: TaskStatus.TASK_STATUS_QUEUED,
      abortReason: AbortReason.ABORT_REASON_NONE,
      taskError: 0,
      selectedNode: '',
      score: new Uint8Array(),
      estimatedSeconds: est,
      createTime: now,
      startTime: 0n,
      scoreReadyTime: 0n,
      validatedTime: 0n,
      endTime: 0n,
      deadline: now + params.queueTimeout,
      sequence,
      resultHash: new Uint8Array(),
      groupPayees: [],
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

  /** Tasks with equal filters share a signature (and so the same eligible nodes). */
  private signature(t: Task): Uint8Array {
    const vram = Buffer.alloc(4)
    vram.writeUInt32BE(t.minVramGb)
    return sha256(
      Buffer.from('beryl/dispatch-signature'),
      Buffer.from(t.modelIds.join(','), 'ascii'),
      Uint8Array.of(0),
      Buffer.from(t.requiredGpu, 'utf8'),
      Uint8Array.of(0),
      vram,
      Buffer.from(t.taskVersion, 'ascii'),
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
    let lowest: Uint8Array | undefined
    for await (const [, c] of this.kv(ctx).iterate({ start: Uint8Array.of(QUEUE), end: Uint8Array.of(QUEUE + 1), reverse: true, limit: 1 })) lowest = c
    const victim = lowest && this.getTask(ctx, lowest)
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

  // ---- scores, error reports -----------------------------------------------------------------

  /** The selected node's result fingerprint: Started → ScoreReady; the node is free for new tasks. */
  submitScore(ctx: Context, node: string, commitment: Uint8Array, score: Uint8Array): void {
    const t = this.mustGet(ctx, commitment)
    this.mustBeRunningOn(t, node)
    try {
      validateScore(t.taskType, score)
    } catch (err) {
      throw TaskErrors.InvalidScore.with((err as Error).message)
    }
    this.finishExecution(ctx, t, { status: TaskStatus.TASK_STATUS_SCORE_READY, score })
  }

  /** The node found the arguments unusable: Started → ErrorReported (slashed if the group disagrees). */
  reportError(ctx: Context, node: string, commitment: Uint8Array, error: TaskError): void {
    const t = this.mustGet(ctx, commitment)
    this.mustBeRunningOn(t, node)
    if (error !== TaskError.TASK_ERROR_PARAMETERS_INVALID) throw TaskErrors.InvalidScore.with('the only error a node may report is PARAMETERS_INVALID')
    this.finishExecution(ctx, t, { status: TaskStatus.TASK_STATUS_ERROR_REPORTED, taskError: error })
  }

  private mustBeRunningOn(t: Task, node: string): void {
    if (t.selectedNode !== node) throw TaskErrors.NotSelectedNode.with(`task ${hex(t.taskIdCommitment)} runs on ${t.selectedNode || 'no node'}`)
    if (t.status !== TaskStatus.TASK_STATUS_STARTED) throw TaskErrors.WrongStatus.with(`the task is ${TaskStatus[t.status]}, not STARTED`)
  }

  private finishExecution(ctx: Context, t: Task, change: Partial<Task>): void {
    const now = ctx.block.timeSeconds
    const next: Task = { ...t, ...change, scoreReadyTime: now, deadline: now + this.params(ctx).creatorValidationTimeout }
    this.moveDeadline(ctx, t, next)
    this.putTask(ctx, next)
    this.staking.release(ctx, t.selectedNode)
    this.emitTransition(ctx, t, next)
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
   * The creator reveals the task id and its ECVRF proof over the first task's sampling seed. Not
   * selected: exactly one task, validated alone. Selected: exactly the three tasks of the
   * validation group (same creator, task id and arguments), compared by Crynux's group-validation table.
   */
  async validate(ctx: Context, creator: string, commitments: Uint8Array[], taskId: Uint8Array, proof: Uint8Array): Promise<void> {
    if (commitments.length !== 1 && commitments.length !== 3)
      throw TaskErrors.InvalidValidation.with('give 1 task (not sampled) or the 3 tasks of a validation group')
    if (new Set(commitments.map(hex)).size !== commitments.length) throw TaskErrors.InvalidValidation.with('a task is listed twice')
    const tasks = commitments.map((c) => this.mustGet(ctx, c))
    for (const t of tasks) {
      if (t.creator !== creator) throw TaskErrors.NotCreator.with(`task ${hex(t.taskIdCommitment)} was created by ${t.creator}`)
      if (Buffer.compare(sha256(taskId, t.nonce), t.taskIdCommitment) !== 0) {
        throw TaskErrors.InvalidValidation.with(`sha256(task_id ‖ nonce) does not match task ${hex(t.taskIdCommitment)}`)
      }
    }
    const first = [...tasks].sort((a, b) => (a.sequence < b.sequence ? -1 : 1))[0]!
    if (first.samplingSeed.length === 0) throw TaskErrors.InvalidValidation.with('the task has no sampling seed yet; validate after its creation block')
    const selected = this.vss.selected(first.vrfPublicKey, proof, first.samplingSeed, BigInt(first.samplingRate))
    if (selected === undefined) throw TaskErrors.InvalidValidation.with("the VRF proof does not verify with the task's vrf_public_key over its sampling seed")
    if (tasks.length === 1 && selected)
      throw TaskErrors.InvalidValidation.with('the VRF selected this task for cross-validation: validate it together with its two validation tasks')
    if (tasks.length === 3 && !selected) throw TaskErrors.InvalidValidation.with('the VRF did not select this task: validate it alone')
    if (tasks.length === 1) this.validateSingle(ctx, first)
    else for (const node of this.validateGroup(ctx, tasks)) await this.abortTasksOfSlashedNode(ctx, node)
  }

  private validateSingle(ctx: Context, t: Task): void {
    let next
    try {
      next = singleOutcome({ status: t.status, abortReason: t.abortReason })
    } catch (err) {
      throw TaskErrors.WrongStatus.with((err as Error).message)
    }
    if (next.status === TaskStatus.TASK_STATUS_VALIDATED) {
      const now = ctx.block.timeSeconds
      const v: Task = { ...t, status: TaskStatus.TASK_STATUS_VALIDATED, validatedTime: now, deadline: now + this.params(ctx).resultUploadTimeout }
      this.moveDeadline(ctx, t, v)
      this.putTask(ctx, v)
      this.emitTransition(ctx, t, v)
    } else {
      this.endErrorReport(ctx, t)
    }
  }

  /**
   * An unsampled error report ends EndAborted(ErrorReported): the creator is refunded, the node is
   * not paid, and its health takes a timeout's penalty, so reporting errors is never cheaper than
   * doing the work. (In a validation group a report the others disagree with is slashed.)
   */
  private endErrorReport(ctx: Context, t: Task): void {
    this.end(
      ctx,
      [t],
      [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: AbortReason.ABORT_REASON_ERROR_REPORTED }],
    )
    this.qos.penalizeTimeout(ctx, t.selectedNode)
  }

  /** Returns the nodes slashed by the outcome. */
  private validateGroup(ctx: Context, tasks: Task[]): string[] {
    const argsHash = hex(tasks[0]!.argsHash)
    if (tasks.some((t) => hex(t.argsHash) !== argsHash)) throw TaskErrors.InvalidValidation.with('the tasks of a validation group must have the same arguments')
    const members: GroupMember[] = tasks.map((t) => ({
      id: hex(t.taskIdCommitment),
      node: t.selectedNode || undefined,
      type: t.taskType,
      status: t.status,
      abortReason: t.abortReason,
      score: t.score,
      startTime: t.startTime,
      scoreReadyTime: t.scoreReadyTime,
      sequence: t.sequence,
    }))
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
    // The evidence of a slash, kept in state: every finished member's task id, score and result hash, in speed order.
    const evidence: GroupEvidence = {
      groupTasks: outcome.ranked,
      groupScores: outcome.ranked.map((id) => scoreText(byId.get(id)!)),
      resultHashes: outcome.ranked.map((id) => hex(byId.get(id)!.resultHash)),
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
    return slashed
  }

  // ---- attestation and settlement -------------------------------------------------------------

  /** An attester checked the uploaded result against the score: Validated → EndSuccess, GroupValidated → EndGroupSuccess. */
  attest(ctx: Context, attester: string, commitment: Uint8Array, resultHash: Uint8Array): void {
    if (!this.params(ctx).attesters.includes(attester)) throw TaskErrors.NotAttester.with(attester)
    const t = this.mustGet(ctx, commitment)
    if (resultHash.length !== 32) throw TaskErrors.InvalidValidation.with('result_hash must be 32 bytes')
    const withHash = { ...t, resultHash }
    if (t.status === TaskStatus.TASK_STATUS_VALIDATED) {
      this.end(ctx, [withHash], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: TaskStatus.TASK_STATUS_END_SUCCESS }])
      this.qos.reward(ctx, t.selectedNode)
    } else if (t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED) {
      const matching = t.groupPayees.map((p) => ({ id: hex(p.taskIdCommitment), node: p.node, qosScore: p.qosScore }))
      this.end(ctx, [withHash], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: TaskStatus.TASK_STATUS_END_GROUP_SUCCESS, matching }])
      this.qos.reward(ctx, t.selectedNode)
    } else {
      throw TaskErrors.WrongStatus.with(`only a validated task can be attested; this one is ${TaskStatus[t.status]}`)
    }
  }

  /** Moves tasks to their terminal statuses and pays out of escrow: refunds, node income, protocol share, slashes. */
  /** Returns the nodes it slashed. */
  private end(ctx: Context, tasks: Task[], outcomes: TaskOutcome[], evidence: GroupEvidence = { groupTasks: [], groupScores: [], resultHashes: [] }): string[] {
    const slashed: string[] = []
    const fees = new Map(tasks.map((t) => [hex(t.taskIdCommitment), BigInt(t.fee)]))
    let s: Settlement
    try {
      s = settle(outcomes, fees, { protocolFeeShare: BigInt(this.params(ctx).protocolFeeShare) })
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
    for (const t of open) this.endAborted(ctx, t, AbortReason.ABORT_REASON_NODE_SLASHED)
  }

  // ---- end of block: timeouts, sampling seeds, dispatch ------------------------------------

  async endBlock(ctx: Context): Promise<void> {
    await this.processTimeouts(ctx)
    // Computed only when a seed or a dispatch needs it: reading the block hash makes the block's
    // execution hash-dependent, so blocks without task work keep their PrepareProposal result.
    let r: Uint8Array | undefined
    const randomness = () => (r ??= this.vss.randomness(ctx))
    await this.fixSamplingSeeds(ctx, randomness)
    await this.dispatch(ctx, randomness)
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
        await this.dequeue(ctx, t)
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_TIMEOUT)
      } else if (t.status === TaskStatus.TASK_STATUS_STARTED) {
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_TIMEOUT)
        this.qos.penalizeTimeout(ctx, t.selectedNode)
      } else if (t.status === TaskStatus.TASK_STATUS_SCORE_READY) {
        // The creator never validated: the node is paid for its work (Crynux's rule).
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
      } else if (t.status === TaskStatus.TASK_STATUS_ERROR_REPORTED) {
        // An error report is never paid, validated or not: it would be a free exit from any task.
        this.endErrorReport(ctx, t)
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

  private async fixSamplingSeeds(ctx: Context, randomness: () => Uint8Array): Promise<void> {
    const kv = this.kv(ctx)
    const pending: Uint8Array[] = []
    for await (const [k] of kv.iterate({ start: Uint8Array.of(UNSEEDED), end: Uint8Array.of(UNSEEDED + 1) })) pending.push(k)
    for (const k of pending) {
      kv.delete(k)
      const t = this.getTask(ctx, k.subarray(1))
      if (!t) continue
      const seed = this.vss.samplingSeed(randomness(), t.taskIdCommitment)
      this.putTask(ctx, { ...t, samplingSeed: seed })
      ctx.emit(event('sampling_seed', { task: hex(t.taskIdCommitment), sampling_seed: hex(seed) }))
    }
  }

  /**
   * Starts queued tasks: the signatures' heads in priority order (at most MAX_HEADS_PER_BLOCK looked
   * at), and within a signature its tasks in order while an eligible node is Available. A signature
   * whose head no Available node can take is passed over at the cost of one look.
   */
  private async dispatch(ctx: Context, randomness: () => Uint8Array): Promise<void> {
    const sigs: Uint8Array[] = []
    for await (const [k] of this.kv(ctx).iterate({ start: Uint8Array.of(HEADS), end: Uint8Array.of(HEADS + 1), limit: MAX_HEADS_PER_BLOCK }))
      sigs.push(Uint8Array.from(k.subarray(1 + 24)))
    let started = 0
    for (const sig of sigs) {
      while (started < MAX_DISPATCH_PER_BLOCK && this.staking.availableCount(ctx) > 0n) {
        const head = await this.signatureHead(ctx, sig)
        const t = head && this.getTask(ctx, head.commitment)
        if (!t) break
        const excluded = await this.recentRecipients(ctx, t)
        const node = await this.dispatchIndex.pickNode(ctx, t, excluded, (use) => sha256(randomness(), t.taskIdCommitment, Buffer.from(`dispatch/${use}`)))
        if (!node) break
        await this.start(ctx, t, node)
        started++
      }
      if (started >= MAX_DISPATCH_PER_BLOCK || this.staking.availableCount(ctx) === 0n) break
    }
  }

  /** The nodes that already received a task of this (creator, args) within the group window. */
  private async recentRecipients(ctx: Context, t: Task): Promise<Uint8Array[]> {
    const group = sha256(Buffer.from(t.creator, 'utf8'), t.argsHash)
    const prefix = key(RECEIVED, group)
    const out: Uint8Array[] = []
    const cutoff = ctx.block.timeSeconds - this.params(ctx).groupWindow
    for await (const [k, v] of this.kv(ctx).iterate({ start: prefix, end: prefixEnd(prefix), limit: 64 })) {
      if (Buffer.from(v).readBigUInt64BE() > cutoff) out.push(k.subarray(prefix.length))
    }
    return out
  }

  private async start(ctx: Context, t: Task, node: Node): Promise<void> {
    const kv = this.kv(ctx)
    const params = this.params(ctx)
    const now = ctx.block.timeSeconds
    await this.dequeue(ctx, t)
    kv.delete(deadlineKey(t.deadline, t.taskIdCommitment))
    this.staking.setBusy(ctx, node.address)
    const group = sha256(Buffer.from(t.creator, 'utf8'), t.argsHash)
    kv.set(key(RECEIVED, group, decodeBech32(node.address).data), u64(now))
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
