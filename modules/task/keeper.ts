import { createHash } from 'node:crypto'
import type { Context, QueryContext } from '../../chain/context.ts'
import { registerError } from '../../chain/errors.ts'
import { event } from '../../chain/events.ts'
import { PrefixStore } from '../../chain/store/prefix.ts'
import { prefixedKey, u64be } from '../../chain/store/encoding.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import { AbortReason, Params, Task, TaskError, TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import type { BankKeeper } from '../bank/index.ts'
import { DENOM } from '../denom.ts'
import type { QosKeeper } from '../qos/index.ts'
import { dispatchWeight } from '../qos/math.ts'
import { COMMUNITY_POOL, type Node, NodeStatus, type StakingKeeper } from '../staking/index.ts'
import { ecvrfVerify } from '../vss/ecvrf.ts'
import { SamplingError, isSelectedForValidation, samplingRate } from '../vss/sampling.ts'
import { settle, settledAtGroupValidation, type Settlement, type TaskOutcome } from './settlement.ts'
import { AbortReason as RuleReason, TaskRuleError, TaskStatus as RuleStatus } from './types.ts'
import { groupOutcome, singleOutcome, validateScore, type GroupMember } from './validation.ts'
import { validateImageArgs, validateTextArgs, type ImageArgs, type TextArgs } from './schema.ts'
import { WeightedSet } from './selection.ts'

export const MODULE = 'task'

export const TaskErrors = {
  InvalidTask: registerError(MODULE, 2, 'invalid task'),
  TaskExists: registerError(MODULE, 3, 'a task with this commitment already exists'),
  TaskNotFound: registerError(MODULE, 4, 'no such task'),
  WrongStatus: registerError(MODULE, 5, 'not allowed in the task\'s current status'),
  NotCreator: registerError(MODULE, 6, 'only the task\'s creator may do this'),
  TooFewNodes: registerError(MODULE, 7, 'fewer than 3 nodes are eligible for this task, so it could never be cross-validated'),
  FeeNotSecurable: registerError(MODULE, 8, 'no sampling rate makes a Sybil attack on this fee unprofitable'),
  NotSelectedNode: registerError(MODULE, 9, 'only the task\'s selected node may do this'),
  InvalidScore: registerError(MODULE, 10, 'invalid score'),
  InvalidValidation: registerError(MODULE, 11, 'invalid validation'),
  NotAttester: registerError(MODULE, 12, 'the sender is not an attester'),
}

const E18 = 10n ** 18n
export const DEFAULT_PARAMS: Params = {
  queueTimeout: 21_600n,
  groupWindow: 3_600n,
  hammingThreshold: 24,
  creatorValidationTimeout: 600n,
  resultUploadTimeout: 600n,
  minExecutionTimeout: 60n,
  maxExecutionTimeout: 7_200n,
  protocolFeeShare: '0',
  attesters: [],
  minSamplingRate: (E18 / 100n).toString(),
  assumedDishonestShare: (E18 / 10n).toString(),
  maxArgsBytes: 16_384,
}

// Store layout (keys under "task/"):
const PARAMS_KEY = Uint8Array.of(0x00)
const TASK = 0x01 //      0x01 | commitment → Task
const SEQUENCE_KEY = Uint8Array.of(0x02)
const QUEUE = 0x03 //     0x03 | u128be(MAX − priority) | u64be(sequence) → commitment   (highest priority first, then oldest)
const DEADLINE = 0x04 //  0x04 | u64be(deadline) | commitment → ∅                        (timeouts, earliest first)
const UNSEEDED = 0x05 //  0x05 | commitment → ∅                                          (created this block)
const RECEIVED = 0x06 //  0x06 | sha256(creator ‖ args_hash) | node address → u64be(time) (the group-window rule)
const BY_CREATOR = 0x07 // 0x07 | creator address | u64be(sequence) → commitment
const BY_NODE = 0x08 //    0x08 | node address | u64be(sequence) → commitment
const BY_STATUS = 0x09 //  0x09 | status byte | u64be(sequence) → commitment
const CLASS = 0x10 //     0x10 | model id bytes | … → a WeightedSet of Available nodes holding that model
const SERVING = 0x11 //   0x11 | model id bytes → u64be(count of serving nodes holding it)
const COUNTED = 0x12 //   0x12 | node address → the model ids (comma-joined) the node is counted for in SERVING

const u64 = u64be
const U128_MAX = (1n << 128n) - 1n
const u128 = (n: bigint) => { const b = Buffer.alloc(16); b.writeBigUInt64BE(n >> 64n); b.writeBigUInt64BE(n & ((1n << 64n) - 1n), 8); return b }
const sha256 = (...parts: Uint8Array[]) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return new Uint8Array(h.digest()) }
const key = prefixedKey

/** Bounded work per block. */
const MAX_DISPATCH_PER_BLOCK = 200
const MAX_TIMEOUTS_PER_BLOCK = 1000
/** Draws per task before it waits for a later block (each draw removes one ineligible node). */
const MAX_DRAWS = 16

export interface Requirements { modelIds: string[]; minVramGb: number; requiredGpu: string; requiredGpuVramGb: number; taskVersion: string }

/** Same major version, and at least the task's minor.patch (crynux.md §4.3). */
export function versionCompatible(node: string, task: string): boolean {
  const n = node.split('.').map(Number), t = task.split('.').map(Number)
  if (n[0] !== t[0]) return false
  return n[1]! > t[1]! || (n[1] === t[1] && n[2]! >= t[2]!)
}

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

/** Seconds a task is expected to take, from its arguments (the creation-time model of crynux.md §4.4, in integers). */
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

/** Fee per estimated second per 8 GB of VRAM demanded (crynux.md §4.4). */
export function priority(fee: bigint, est: bigint, vramDemandGb: number): bigint {
  const p = (fee * 8n) / (est * BigInt(Math.max(vramDemandGb, 8)))
  return p > U128_MAX ? U128_MAX : p
}

export class TaskKeeper {
  constructor(private readonly bank: BankKeeper, private readonly staking: StakingKeeper, private readonly qos: QosKeeper) {
    staking.onNodeChange((ctx, before, after) => this.reindexNode(ctx, before, after))
    qos.onQosChange((ctx, address) => {
      const n = staking.getNode(ctx, address)
      if (n) this.reindexNode(ctx, n, n)
    })
  }

  private kv(ctx: Context | QueryContext): KVStore { return ctx.kv(MODULE) }

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    return v ? Params.decode(v) : DEFAULT_PARAMS
  }
  setParams(ctx: Context, p: Params): void { this.kv(ctx).set(PARAMS_KEY, Params.encode(p).finish()) }

  getTask(ctx: Context | QueryContext, commitment: Uint8Array): Task | undefined {
    const v = this.kv(ctx).get(key(TASK, commitment))
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
    kv.set(key(TASK, t.taskIdCommitment), Task.encode(t).finish())
  }

  /**
   * Tasks by creator, node or status, newest first; other filters apply within the chosen index.
   * At most `limit` tasks and 10 000 index entries per page.
   */
  async listTasks(ctx: QueryContext, f: { creator?: string; node?: string; status?: TaskStatus; key?: Uint8Array; limit: number }): Promise<{ tasks: Task[]; nextKey: Uint8Array }> {
    const prefix = f.creator ? key(BY_CREATOR, decodeBech32(f.creator).data)
      : f.node ? key(BY_NODE, decodeBech32(f.node).data)
        : key(BY_STATUS, Uint8Array.of(f.status!))
    const end = f.key?.length ? Buffer.concat([prefix, f.key]) : prefixEnd(prefix)
    const tasks: Task[] = []
    let nextKey: Uint8Array = new Uint8Array()
    let scanned = 0
    for await (const [k, c] of this.kv(ctx).iterate({ start: prefix, end, reverse: true })) {
      if (tasks.length === f.limit || ++scanned > 10_000) { nextKey = Buffer.concat([k.subarray(prefix.length), Uint8Array.of(0)]); break }
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

  // ---- the dispatch index ------------------------------------------------------------------

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
  private reindexNode(ctx: Context, before: Node | undefined, after: Node | undefined): void {
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
    if (n > 0n) this.kv(ctx).set(k, u64(n))
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

  // ---- creation and cancellation -----------------------------------------------------------

  create(ctx: Context, m: {
    creator: string; taskIdCommitment: Uint8Array; nonce: Uint8Array; taskType: TaskType; args: string; modelIds: string[]
    minVramGb: number; requiredGpu: string; requiredGpuVramGb: number; taskVersion: string; fee: bigint; vrfPublicKey: Uint8Array
  }): Task {
    const params = this.params(ctx)
    if (Buffer.byteLength(m.args, 'utf8') > params.maxArgsBytes) throw TaskErrors.InvalidTask.with(`args exceed ${params.maxArgsBytes} bytes`)
    let parsed: unknown
    try { parsed = JSON.parse(m.args) } catch { throw TaskErrors.InvalidTask.with('args are not valid JSON') }
    let args: ImageArgs | TextArgs
    try {
      args = m.taskType === TaskType.TASK_TYPE_IMAGE ? validateImageArgs(parsed) : validateTextArgs(parsed)
    } catch (err) {
      throw TaskErrors.InvalidTask.with(`args: ${(err as Error).message}`)
    }
    if (this.getTask(ctx, m.taskIdCommitment)) throw TaskErrors.TaskExists.with(Buffer.from(m.taskIdCommitment).toString('hex'))

    const eligible = this.eligibleCount(ctx, m.modelIds)
    let rate: bigint
    try {
      rate = samplingRate({
        fee: m.fee, minStake: BigInt(this.staking.params(ctx).minStake), eligibleNodes: eligible,
        dishonestShare: BigInt(params.assumedDishonestShare), minRate: BigInt(params.minSamplingRate),
      }).rate
    } catch (err) {
      if (err instanceof SamplingError && err.code === 'TOO_FEW_ELIGIBLE_NODES') throw TaskErrors.TooFewNodes.with(`${eligible} nodes serve model ${[...m.modelIds].sort()[0]}`)
      if (err instanceof SamplingError && err.code === 'FEE_NOT_SECURABLE') throw TaskErrors.FeeNotSecurable.with(err.message)
      throw err
    }

    this.bank.sendFromAccountToModule(ctx, m.creator, MODULE, [{ denom: DENOM, amount: m.fee }])
    const seqRaw = this.kv(ctx).get(SEQUENCE_KEY)
    const sequence = seqRaw ? Buffer.from(seqRaw).readBigUInt64BE() : 0n
    this.kv(ctx).set(SEQUENCE_KEY, u64(sequence + 1n))
    const est = estimateSeconds(m.taskType, args)
    const now = ctx.block.timeSeconds
    const t: Task = {
      taskIdCommitment: m.taskIdCommitment, creator: m.creator, nonce: m.nonce, taskType: m.taskType, args: m.args,
      argsHash: sha256(Buffer.from(m.args, 'utf8')), modelIds: [...m.modelIds].sort(), minVramGb: m.minVramGb, requiredGpu: m.requiredGpu,
      requiredGpuVramGb: m.requiredGpuVramGb, taskVersion: m.taskVersion, fee: m.fee.toString(), vrfPublicKey: m.vrfPublicKey,
      samplingRate: rate.toString(), samplingSeed: new Uint8Array(), status: TaskStatus.TASK_STATUS_QUEUED, abortReason: AbortReason.ABORT_REASON_NONE,
      taskError: 0, selectedNode: '', score: new Uint8Array(), estimatedSeconds: est, createTime: now, startTime: 0n, scoreReadyTime: 0n,
      validatedTime: 0n, endTime: 0n, deadline: now + params.queueTimeout, sequence, resultHash: new Uint8Array(), groupPayees: [],
    }
    this.putTask(ctx, t)
    const kv = this.kv(ctx)
    kv.set(this.queueKey(t), t.taskIdCommitment)
    kv.set(key(DEADLINE, u64(t.deadline), t.taskIdCommitment), new Uint8Array())
    kv.set(key(UNSEEDED, t.taskIdCommitment), new Uint8Array())
    ctx.emit(event('task_created', {
      task: hex(t.taskIdCommitment), creator: t.creator, fee: `${t.fee}${DENOM}`, sampling_rate: t.samplingRate,
      eligible_nodes: eligible.toString(), estimated_seconds: est.toString(),
    }))
    return t
  }

  private queueKey(t: Task): Uint8Array {
    const vram = t.requiredGpu ? t.requiredGpuVramGb : t.minVramGb
    return key(QUEUE, u128(U128_MAX - priority(BigInt(t.fee), t.estimatedSeconds, vram)), u64(t.sequence))
  }

  cancel(ctx: Context, creator: string, commitment: Uint8Array): void {
    const t = this.mustGet(ctx, commitment)
    if (t.creator !== creator) throw TaskErrors.NotCreator.with(`task ${hex(commitment)} was created by ${t.creator}`)
    if (t.status !== TaskStatus.TASK_STATUS_QUEUED) throw TaskErrors.WrongStatus.with(`only a queued task can be cancelled; this one is ${TaskStatus[t.status]}`)
    this.kv(ctx).delete(this.queueKey(t))
    this.endAborted(ctx, t, AbortReason.ABORT_REASON_CREATOR_CANCELLED)
  }

  private mustGet(ctx: Context, commitment: Uint8Array): Task {
    const t = this.getTask(ctx, commitment)
    if (!t) throw TaskErrors.TaskNotFound.with(hex(commitment))
    return t
  }

  /** Ends a task in EndAborted with a full refund to its creator (the node, if any, is released). */
  private endAborted(ctx: Context, t: Task, reason: AbortReason): void {
    this.end(ctx, [t], [{ id: hex(t.taskIdCommitment), node: t.selectedNode || undefined, status: RuleStatus.EndAborted, abortReason: reason as number }])
  }

  // ---- scores, error reports -----------------------------------------------------------------

  /** The selected node's result fingerprint: Started → ScoreReady; the node is free for new tasks. */
  submitScore(ctx: Context, node: string, commitment: Uint8Array, score: Uint8Array): void {
    const t = this.mustGet(ctx, commitment)
    this.mustBeRunningOn(t, node)
    try {
      validateScore(t.taskType as number, score)
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
    if (before.deadline) kv.delete(key(DEADLINE, u64(before.deadline), before.taskIdCommitment))
    if (after.deadline) kv.set(key(DEADLINE, u64(after.deadline), after.taskIdCommitment), new Uint8Array())
  }

  private emitTransition(ctx: Context, from: Task, to: Task, extra: Record<string, string> = {}): void {
    ctx.emit(event('task_status', {
      task: hex(to.taskIdCommitment), node: to.selectedNode, from: TaskStatus[from.status], to: TaskStatus[to.status],
      ...(to.abortReason ? { reason: AbortReason[to.abortReason] } : {}), ...extra,
    }))
  }

  // ---- validation (verifiable secret sampling) ------------------------------------------------

  /**
   * The creator reveals the task id and its ECVRF proof over the first task's sampling seed. Not
   * selected: exactly one task, validated alone. Selected: exactly the three tasks of the
   * validation group (same creator, task id and arguments), compared by crynux.md §1.4.
   */
  async validate(ctx: Context, creator: string, commitments: Uint8Array[], taskId: Uint8Array, proof: Uint8Array): Promise<void> {
    if (commitments.length !== 1 && commitments.length !== 3) throw TaskErrors.InvalidValidation.with('give 1 task (not sampled) or the 3 tasks of a validation group')
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
    const beta = ecvrfVerify(first.vrfPublicKey, proof, first.samplingSeed)
    if (!beta) throw TaskErrors.InvalidValidation.with('the VRF proof does not verify with the task\'s vrf_public_key over its sampling seed')
    const selected = isSelectedForValidation(beta, BigInt(first.samplingRate))
    if (tasks.length === 1 && selected) throw TaskErrors.InvalidValidation.with('the VRF selected this task for cross-validation: validate it together with its two validation tasks')
    if (tasks.length === 3 && !selected) throw TaskErrors.InvalidValidation.with('the VRF did not select this task: validate it alone')
    if (tasks.length === 1) this.validateSingle(ctx, first)
    else for (const node of this.validateGroup(ctx, tasks)) await this.abortTasksOfSlashedNode(ctx, node)
  }

  private validateSingle(ctx: Context, t: Task): void {
    let next
    try {
      next = singleOutcome({ status: t.status as number, abortReason: t.abortReason as number })
    } catch (err) {
      throw TaskErrors.WrongStatus.with((err as Error).message)
    }
    if (next.status === RuleStatus.Validated) {
      const now = ctx.block.timeSeconds
      const v: Task = { ...t, status: TaskStatus.TASK_STATUS_VALIDATED, validatedTime: now, deadline: now + this.params(ctx).resultUploadTimeout }
      this.moveDeadline(ctx, t, v)
      this.putTask(ctx, v)
      this.emitTransition(ctx, t, v)
    } else {
      this.end(ctx, [t], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: next.status, abortReason: next.abortReason }])
    }
  }

  /** Returns the nodes slashed by the outcome. */
  private validateGroup(ctx: Context, tasks: Task[]): string[] {
    const argsHash = hex(tasks[0]!.argsHash)
    if (tasks.some((t) => hex(t.argsHash) !== argsHash)) throw TaskErrors.InvalidValidation.with('the tasks of a validation group must have the same arguments')
    const members: GroupMember[] = tasks.map((t) => ({
      id: hex(t.taskIdCommitment), node: t.selectedNode || undefined, type: t.taskType as number, status: t.status as number,
      abortReason: t.abortReason as number, score: t.score, startTime: t.startTime, scoreReadyTime: t.scoreReadyTime, sequence: t.sequence,
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
      if (m.status === RuleStatus.GroupValidated) {
        const payees = outcome.matching.map((p) => ({ taskIdCommitment: byId.get(p.id)!.taskIdCommitment, node: p.node, qosScore: p.qosScore }))
        const v: Task = { ...t, status: TaskStatus.TASK_STATUS_GROUP_VALIDATED, validatedTime: now, deadline: now + this.params(ctx).resultUploadTimeout, groupPayees: payees }
        this.moveDeadline(ctx, t, v)
        this.putTask(ctx, v)
        this.emitTransition(ctx, t, v)
      }
    }
    // The evidence of a slash: every member's task id, status and score, in speed order.
    const evidence = {
      group_tasks: outcome.ranked.join(','),
      group_scores: outcome.ranked.map((id) => { const t = byId.get(id)!; return t.status === TaskStatus.TASK_STATUS_ERROR_REPORTED ? 'error' : hex(t.score) }).join(','),
    }
    const slashed = this.end(ctx, ending.map((o) => byId.get(o.id)!), ending, evidence)
    // QoS: speed ranks (or 0) feed Q_long; a group match is a success for health.
    for (const m of outcome.members) {
      if (!m.node) continue
      if (m.qosScore !== null) this.qos.recordScore(ctx, m.node, BigInt(m.qosScore))
      if (m.status === RuleStatus.EndGroupRefund) this.qos.reward(ctx, m.node)
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
      this.end(ctx, [withHash], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: RuleStatus.EndSuccess }])
      this.qos.reward(ctx, t.selectedNode)
    } else if (t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED) {
      const matching = t.groupPayees.map((p) => ({ id: hex(p.taskIdCommitment), node: p.node, qosScore: p.qosScore }))
      this.end(ctx, [withHash], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: RuleStatus.EndGroupSuccess, matching }])
      this.qos.reward(ctx, t.selectedNode)
    } else {
      throw TaskErrors.WrongStatus.with(`only a validated task can be attested; this one is ${TaskStatus[t.status]}`)
    }
  }

  /** Moves tasks to their terminal statuses and pays out of escrow: refunds, node income, protocol share, slashes. */
  /** Returns the nodes it slashed. */
  private end(ctx: Context, tasks: Task[], outcomes: TaskOutcome[], evidence: Record<string, string> = {}): string[] {
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
      const ended: Task = { ...t, status: o.status as number, abortReason: (o.abortReason ?? 0) as number, endTime: now, deadline: 0n }
      this.moveDeadline(ctx, t, ended)
      this.putTask(ctx, ended)
      if (t.status === TaskStatus.TASK_STATUS_STARTED && t.selectedNode) this.staking.release(ctx, t.selectedNode)
      this.emitTransition(ctx, t, ended)
    }
    for (const tr of s.transfers) {
      const coins = [{ denom: DENOM, amount: tr.amount }]
      if (tr.to === 'creator') this.bank.sendFromModuleToAccount(ctx, MODULE, byId.get(tr.taskId)!.creator, coins)
      else if (tr.to === 'community_pool') this.bank.sendFromModuleToModule(ctx, MODULE, COMMUNITY_POOL, coins)
      else {
        const node = tr.to.slice('node:'.length)
        this.bank.sendFromModuleToAccount(ctx, MODULE, node, coins)
        this.staking.recordEarning(ctx, node, tr.amount)
      }
      ctx.emit(event('task_payment', { task: tr.taskId, to: tr.to, amount: `${tr.amount}${DENOM}`, reason: tr.reason }))
    }
    for (const sl of s.slashes) {
      if (!this.staking.getNode(ctx, sl.node)) continue // already slashed by another group
      const t = byId.get(sl.taskId)!
      this.staking.slash(ctx, sl.node, { task: sl.taskId, reason: sl.reason, score: hex(t.score), ...evidence })
      slashed.push(sl.node)
    }
    return slashed
  }

  /**
   * A slashed node's other open work cannot finish: a running task, or a validated one waiting for
   * its upload, ends EndAborted(NodeSlashed) with a full refund. A node's open tasks are among its
   * most recent (at most one runs at a time, uploads wait at most result_upload_timeout).
   */
  private async abortTasksOfSlashedNode(ctx: Context, node: string): Promise<void> {
    const prefix = key(BY_NODE, decodeBech32(node).data)
    const open: Task[] = []
    for await (const [, c] of this.kv(ctx).iterate({ start: prefix, end: prefixEnd(prefix), reverse: true, limit: 64 })) {
      const t = this.getTask(ctx, c)
      if (t && (t.status === TaskStatus.TASK_STATUS_STARTED || t.status === TaskStatus.TASK_STATUS_VALIDATED || t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED)) open.push(t)
    }
    for (const t of open) this.endAborted(ctx, t, AbortReason.ABORT_REASON_NODE_SLASHED)
  }

  // ---- end of block: timeouts, sampling seeds, dispatch ------------------------------------

  async endBlock(ctx: Context): Promise<void> {
    await this.processTimeouts(ctx)
    // Computed only when a seed or a dispatch needs it: reading the block hash makes the block's
    // execution hash-dependent, so blocks without task work keep their PrepareProposal result.
    let r: Uint8Array | undefined
    const randomness = () => (r ??= blockRandomness(ctx))
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
      if (!t) { kv.delete(k); continue }
      if (t.status === TaskStatus.TASK_STATUS_QUEUED) {
        kv.delete(this.queueKey(t))
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_TIMEOUT)
      } else if (t.status === TaskStatus.TASK_STATUS_STARTED) {
        this.endAborted(ctx, t, AbortReason.ABORT_REASON_TIMEOUT)
        this.qos.penalizeTimeout(ctx, t.selectedNode)
      } else if (t.status === TaskStatus.TASK_STATUS_SCORE_READY || t.status === TaskStatus.TASK_STATUS_ERROR_REPORTED) {
        // The creator never validated: the node is paid for its work (crynux.md §6.3).
        this.end(ctx, [t], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: RuleStatus.EndAborted, abortReason: RuleReason.CreatorValidationTimeout }])
      } else if (t.status === TaskStatus.TASK_STATUS_VALIDATED || t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED) {
        // The node never delivered a result that matched its score: refund.
        this.end(ctx, [t], [{ id: hex(t.taskIdCommitment), node: t.selectedNode, status: RuleStatus.EndAborted, abortReason: RuleReason.ResultUploadTimeout }])
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
      const seed = sha256(randomness(), t.taskIdCommitment)
      this.putTask(ctx, { ...t, samplingSeed: seed })
      ctx.emit(event('sampling_seed', { task: hex(t.taskIdCommitment), sampling_seed: hex(seed) }))
    }
  }

  private async dispatch(ctx: Context, randomness: () => Uint8Array): Promise<void> {
    const kv = this.kv(ctx)
    const queued: Array<[Uint8Array, Uint8Array]> = []
    for await (const [k, c] of kv.iterate({ start: Uint8Array.of(QUEUE), end: Uint8Array.of(QUEUE + 1), limit: MAX_DISPATCH_PER_BLOCK })) queued.push([k, c])
    for (const [qk, commitment] of queued) {
      const t = this.getTask(ctx, commitment)
      if (!t || t.status !== TaskStatus.TASK_STATUS_QUEUED) { kv.delete(qk); continue }
      const node = await this.pickNode(ctx, t, randomness)
      if (node) this.start(ctx, t, qk, node)
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

  /**
   * Weighted random choice among eligible nodes, by rejection: draw from the Available nodes holding
   * the task's first model, excluding the group window's recipients; a drawn node that fails another
   * filter is excluded and the draw repeated. The result has exactly the weighted distribution over
   * eligible nodes, at O(k log n) reads for k draws.
   */
  private async pickNode(ctx: Context, t: Task, randomness: () => Uint8Array): Promise<Node | undefined> {
    const set = this.classSet(ctx, t.modelIds[0]!)
    if (set.size() === 0) return undefined
    const excluded = await this.recentRecipients(ctx, t)
    const req: Requirements = { modelIds: t.modelIds, minVramGb: t.minVramGb, requiredGpu: t.requiredGpu, requiredGpuVramGb: t.requiredGpuVramGb, taskVersion: t.taskVersion }
    for (let i = 0; i < MAX_DRAWS; i++) {
      const id = set.draw(sha256(randomness(), t.taskIdCommitment, Buffer.from(`dispatch/${i}`)), excluded)
      if (!id) return undefined
      const node = this.staking.getNodeByBytes(ctx, id)
      if (node && node.status === NodeStatus.NODE_STATUS_AVAILABLE && nodeMeets(node, req)) return node
      excluded.push(id)
    }
    return undefined
  }

  private start(ctx: Context, t: Task, queueKey: Uint8Array, node: Node): void {
    const kv = this.kv(ctx)
    const params = this.params(ctx)
    const now = ctx.block.timeSeconds
    kv.delete(queueKey)
    kv.delete(key(DEADLINE, u64(t.deadline), t.taskIdCommitment))
    this.staking.setBusy(ctx, node.address)
    const group = sha256(Buffer.from(t.creator, 'utf8'), t.argsHash)
    kv.set(key(RECEIVED, group, decodeBech32(node.address).data), u64(now))
    const timeout = clamp(2n * t.estimatedSeconds, params.minExecutionTimeout, params.maxExecutionTimeout)
    const started: Task = { ...t, status: TaskStatus.TASK_STATUS_STARTED, selectedNode: node.address, startTime: now, deadline: now + timeout }
    kv.set(key(DEADLINE, u64(started.deadline), t.taskIdCommitment), new Uint8Array())
    this.putTask(ctx, started)
    ctx.emit(event('task_status', { task: hex(t.taskIdCommitment), node: node.address, from: 'TASK_STATUS_QUEUED', to: 'TASK_STATUS_STARTED', deadline: started.deadline.toString() }))
  }
}

const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/**
 * The chain's randomness for this block: H(previous app hash ‖ block hash ‖ height). Reading the
 * block hash marks the block's execution as hash-dependent (docs/decisions/0003). A later issue
 * replaces this with validator VRFs carried in vote extensions; everything goes through here.
 */
export function blockRandomness(ctx: Context): Uint8Array {
  return sha256(ctx.block.lastAppHash, ctx.block.hash, u64(ctx.block.height))
}
