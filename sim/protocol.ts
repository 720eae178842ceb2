// The twin's ONE adapter to the task protocol's messages. Every interaction of an agent with the
// task lifecycle (creating a task, answering it, validating it, revealing, uploading, and what a
// participant can learn from public state about a task's validation group) goes through here, so a
// change of the protocol's messages is a change of this file only. Agents, measures, reports and
// the driver never name a task message.
//
// Written against the protocol as of main today (issue 10 will change it):
// - a node answers with MsgSubmitScore (plain score) or MsgReportError;
// - the creator proves its VRF over T1's sampling seed; if selected it creates the two validation
//   tasks itself (same task id and args; text: T1's GPU class), waits for every member's answer,
//   and sends MsgValidateTask with the 1 or 3 commitments;
// - nothing is revealed (scores are public as soon as submitted): revealIfAsked does nothing;
// - a validated task's node uploads its file; the gateway checks it against the score and its
//   attester sends MsgAttestResult.
// After issue 10: answer = a commitment sha256(score ‖ salt) (an error report = the empty score),
// MsgValidateTask names only T1 and the chain spawns the group, reveal = MsgRevealResult once the
// group has committed, and a single task's reveal rides on MsgAttestResult (score, salt).

import { createHash } from 'node:crypto'
import { TaskStatus, TaskType, type Task } from '../modules/task/index.ts'
import { TaskError } from '../proto/gen/beryl/task/v1/types.ts'
import { isSelectedForValidation } from '../modules/vss/index.ts'
import type { Identity } from './chain.ts'
import type { Vrf } from './crypto.ts'
import type { Rng } from './rng.ts'
import { resultHash } from './work.ts'
import type { Agent, ChainEvent, World } from './world.ts'

const T = (n: string) => `/beryl.task.v1.${n}`
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))
const sha256 = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return new Uint8Array(h.digest())
}

/** What an application asks for. */
export interface TaskSpec {
  type: 'image' | 'text'
  args: string
  modelId: string
  fee: bigint
  minVramGb?: number
  requiredGpu?: string
  taskVersion: string
}

/** What a node answers. */
export type Answer = { kind: 'score'; score: Uint8Array } | { kind: 'error' }

/** The creator's view of one task it created (its secrets and its members). */
export interface CreatedTask {
  spec: TaskSpec
  taskId: Uint8Array
  vrfSecretKey: Uint8Array
  vrfPublicKey: Uint8Array
  /** Hex commitments: [T1] or [T1, T2, T3]. */
  members: string[]
  /** Set once the VRF over T1's seed has been read. */
  sampled?: boolean
  /** The creator will validate (some applications never do). */
  validates: boolean
  validateSent: boolean
  /** T1 ended (terminal): the creator's part is over. */
  done: boolean
  createdAt: bigint
  rejected?: string
}

const TERMINAL = new Set([
  TaskStatus.TASK_STATUS_END_INVALIDATED,
  TaskStatus.TASK_STATUS_END_SUCCESS,
  TaskStatus.TASK_STATUS_END_ABORTED,
  TaskStatus.TASK_STATUS_END_GROUP_REFUND,
  TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
])
const ANSWERED = new Set([TaskStatus.TASK_STATUS_SCORE_READY, TaskStatus.TASK_STATUS_ERROR_REPORTED])

export class Protocol {
  /** Args hash (hex) → commitments of tasks created with those args by one creator: the public index a watcher builds from events. */
  private readonly byArgs = new Map<string, string[]>()
  /** Commitments whose sampling outcome the creator learnt (for measures only: "was this task sampled"). */
  readonly sampledTasks = new Set<string>()

  private readonly eligible = new Map<string, bigint>()

  /** `index`: keep the public index of tasks by (creator, args) that adversaries read (off in honest-only runs, to save memory). */
  constructor(
    private readonly w: World,
    private readonly vrf: Vrf,
    readonly attester: Identity,
    index: boolean,
  ) {
    // Anyone can index the chain's tasks by (creator, args) from the creation events: adversaries use it.
    if (index)
      w.watch((_, e) => {
        if (e.type !== 'task_created') return
        this.eligible.set(e.attrs.task!, BigInt(e.attrs.eligible_nodes ?? '0'))
        const t = this.w.read.task(unhex(e.attrs.task!))
        if (!t) return
        const k = `${t.creator}/${hex(t.argsHash)}`
        const list = this.byArgs.get(k)
        if (list) list.push(e.attrs.task!)
        else this.byArgs.set(k, [e.attrs.task!])
      })
  }

  private createMsg(app: Identity, spec: TaskSpec, commitment: Uint8Array, nonce: Uint8Array, vrfPublicKey: Uint8Array, requiredGpu?: string) {
    return {
      typeUrl: T('MsgCreateTask'),
      value: {
        creator: app.address,
        taskIdCommitment: commitment,
        nonce,
        taskType: spec.type === 'image' ? TaskType.TASK_TYPE_IMAGE : TaskType.TASK_TYPE_TEXT,
        args: spec.args,
        modelIds: [spec.modelId],
        minVramGb: spec.minVramGb ?? 0,
        requiredGpu: requiredGpu ?? spec.requiredGpu ?? '',
        requiredGpuVramGb: 0,
        taskVersion: spec.taskVersion,
        fee: spec.fee.toString(),
        vrfPublicKey,
      },
    }
  }

  // ---- the application's side -----------------------------------------------------------------

  /** Creates a task (the SDK's runTask, first step). `owner` hears about the task's events and passes them to `onTaskEvent`. */
  createTask(app: Identity, owner: Agent, spec: TaskSpec, rng: Rng, validates = true): CreatedTask {
    const taskId = rng.bytes(32)
    const vrfSecretKey = rng.bytes(32)
    const h: CreatedTask = {
      spec,
      taskId,
      vrfSecretKey,
      vrfPublicKey: this.vrf.publicKey(vrfSecretKey),
      members: [],
      validates,
      validateSent: false,
      done: false,
      createdAt: this.w.now,
    }
    this.addMember(app, owner, h, rng)
    return h
  }

  private addMember(app: Identity, owner: Agent, h: CreatedTask, rng: Rng, requiredGpu?: string): string {
    const nonce = rng.bytes(32)
    const commitment = sha256(h.taskId, nonce)
    const c = hex(commitment)
    h.members.push(c)
    this.w.taskOwners.set(c, owner)
    this.w.submit(app, [this.createMsg(app, h.spec, commitment, nonce, h.vrfPublicKey, requiredGpu)], (r) => {
      if (r.code !== 0) {
        h.rejected = r.log
        if (h.members[0] === c) h.done = true
      }
    })
    return c
  }

  /**
   * The creator's flow, driven by its tasks' events: read the VRF once T1's seed is fixed; if
   * sampled, create the two validation tasks; once every member has answered (or ended), validate.
   */
  onTaskEvent(app: Identity, owner: Agent, h: CreatedTask, e: ChainEvent, rng: Rng): void {
    const t1 = h.members[0]!
    if (e.type === 'sampling_seed' && e.attrs.task === t1 && h.sampled === undefined) {
      const task = this.w.read.task(unhex(t1))!
      const proof = this.vrf.prove(h.vrfSecretKey, task.samplingSeed)
      h.sampled = isSelectedForValidation(this.vrf.beta(proof), BigInt(task.samplingRate))
      if (h.sampled) {
        this.sampledTasks.add(t1)
        // Text outputs are compared byte for byte: the validation tasks run on T1's GPU class (known once T1 starts).
        if (h.spec.type === 'image') for (let i = 0; i < 2; i++) this.addMember(app, owner, h, rng)
      }
    }
    if (
      e.type === 'task_status' &&
      e.attrs.task === t1 &&
      e.attrs.to === 'TASK_STATUS_STARTED' &&
      h.sampled &&
      h.spec.type === 'text' &&
      h.members.length === 1
    ) {
      const gpu = this.w.read.node(e.attrs.node!)?.gpuName
      for (let i = 0; i < 2; i++) this.addMember(app, owner, h, rng, gpu)
    }
    if (e.type === 'task_status' && e.attrs.task === t1 && TERMINAL.has(TaskStatus[e.attrs.to as keyof typeof TaskStatus])) h.done = true
    if (e.type === 'task_status' || e.type === 'sampling_seed') this.maybeValidate(app, h)
  }

  private maybeValidate(app: Identity, h: CreatedTask): void {
    if (!h.validates || h.validateSent || h.sampled === undefined) return
    const want = h.sampled ? 3 : 1
    if (h.members.length < want) return
    const tasks = h.members.map((c) => this.w.read.task(unhex(c)))
    if (tasks.some((t) => !t)) return
    // Every member has answered or ended; at least T1 has answered.
    if (!tasks.every((t) => ANSWERED.has(t!.status) || TERMINAL.has(t!.status))) return
    if (!ANSWERED.has(tasks[0]!.status)) return
    this.validate(app, h, h.members)
  }

  private validate(app: Identity, h: CreatedTask, members: string[]): void {
    h.validateSent = true
    const first = this.w.read.task(unhex(members[0]!))!
    const proof = this.vrf.prove(h.vrfSecretKey, first.samplingSeed)
    this.w.submit(app, [
      {
        typeUrl: T('MsgValidateTask'),
        value: { creator: app.address, taskIdCommitments: members.map(unhex), taskId: h.taskId, vrfProof: proof },
      },
    ])
  }

  /**
   * Seed 003's colluding creator: several tasks under one task id, and the creator picks which three
   * form the "validation group". Returns false where the protocol does not let a creator choose
   * (after issue 10 the chain spawns the group).
   */
  createCandidate(app: Identity, owner: Agent, h: CreatedTask, rng: Rng, requiredGpu?: string): string | false {
    return this.addMember(app, owner, h, rng, requiredGpu)
  }

  /** Validates the chosen three as a group (false if the protocol has no such choice). */
  validateChosen(app: Identity, h: CreatedTask, chosen: string[]): boolean {
    this.validate(app, h, chosen)
    return true
  }

  /** Whether the creator's VRF selects a task with this seed and rate (what a colluding creator checks before choosing). */
  selects(h: CreatedTask, commitment: string): boolean {
    const t = this.w.read.task(unhex(commitment))
    if (!t || t.samplingSeed.length === 0) return false
    return isSelectedForValidation(this.vrf.beta(this.vrf.prove(h.vrfSecretKey, t.samplingSeed)), BigInt(t.samplingRate))
  }

  // ---- the node's side ---------------------------------------------------------------------------

  /** The node's answer to a task it runs. */
  answer(node: Identity, task: Task, a: Answer): void {
    if (a.kind === 'score') {
      this.w.submit(node, [{ typeUrl: T('MsgSubmitScore'), value: { node: node.address, taskIdCommitment: task.taskIdCommitment, score: a.score } }])
    } else {
      this.w.submit(node, [
        {
          typeUrl: T('MsgReportError'),
          value: { node: node.address, taskIdCommitment: task.taskIdCommitment, error: TaskError.TASK_ERROR_PARAMETERS_INVALID },
        },
      ])
    }
  }

  /** Reveals a committed answer when the protocol asks for it (nothing is committed today). */
  revealIfAsked(_node: Identity, _e: ChainEvent, _answer: Answer | undefined): void {}

  /** Whether this event tells the node that its task is validated and its file is wanted. */
  uploadWanted(e: ChainEvent): boolean {
    return e.type === 'task_status' && (e.attrs.to === 'TASK_STATUS_VALIDATED' || e.attrs.to === 'TASK_STATUS_GROUP_VALIDATED')
  }

  /** The node uploads the file behind its answer; the gateway checks it against the score and attests. */
  upload(_node: Identity, taskIdCommitment: Uint8Array, a: Answer): void {
    if (a.kind !== 'score') return
    this.w.submit(this.attester, [
      { typeUrl: T('MsgAttestResult'), value: { attester: this.attester.address, taskIdCommitment, resultHash: resultHash(a.score) } },
    ])
  }

  // ---- what a participant can learn from public state ------------------------------------------

  /**
   * The other tasks of this task's validation group as far as public state shows them: today, the
   * tasks with the same creator and arguments (the creator makes the group from copies of T1).
   * The first of them by creation is T1.
   */
  visibleGroup(task: Task): string[] {
    return this.byArgs.get(`${task.creator}/${hex(task.argsHash)}`) ?? [hex(task.taskIdCommitment)]
  }

  /** Whether public state shows this task to be a validation seat (a copy of an earlier task). */
  looksLikeValidationSeat(task: Task): boolean {
    const g = this.visibleGroup(task)
    return g.length > 1 && g[0] !== hex(task.taskIdCommitment)
  }

  /** Whether public state shows this (first) task to be sampled: copies of it exist. */
  looksSampled(task: Task): boolean {
    return this.visibleGroup(task).length > 1
  }

  /** The serving nodes that met every filter of the task when it was created (its task_created event). */
  eligibleAtCreation(commitment: string): bigint {
    return this.eligible.get(commitment) ?? 0n
  }

  /** Another node's answer, if public state shows it (today a submitted score is in state at once). */
  publicScore(commitment: string): Uint8Array | undefined {
    const t = this.w.read.task(unhex(commitment))
    return t && t.score.length > 0 ? t.score : undefined
  }
}
