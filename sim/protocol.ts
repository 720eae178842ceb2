// The twin's ONE adapter to the task protocol's messages. Every interaction of an agent with the
// task lifecycle (creating a task, answering it, validating it, revealing, uploading, and what a
// participant can learn from public state about a task's validation group) goes through here, so a
// change of the protocol's messages is a change of this file only. Agents, measures, reports and
// the driver never name a task message.
//
// Written against the protocol of issue 10 (docs/decisions/0020): a node commits sha256(score ‖ salt)
// (an error report is the empty score); the creator validates T1 alone once that commitment is in a
// block, and if its VRF selects T1 the chain creates the two validation tasks itself; once the group
// has committed every member reveals (MsgRevealResult); a single task's reveal rides on the
// attestation of its upload (MsgAttestResult with score and salt).
//
// Seat reservations and collateral (docs/decisions/0024) add no message: a seat drawn on a Busy node
// starts when the node is free (the same task_status event), and the chain gives a node no new first
// task while its stake does not back one more unjudged answer. An agent answers what it is given.

import { createHash } from 'node:crypto'
import { TaskStatus, TaskType, isTerminal, type Task } from '../modules/task/index.ts'
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

export class Protocol {
  /** Args hash (hex) → commitments of tasks created with those args by one creator: the public index a watcher builds from events. */
  private readonly byArgs = new Map<string, string[]>()
  /** Commitments whose sampling outcome the creator learnt (for measures only: "was this task sampled"). */
  readonly sampledTasks = new Set<string>()

  private readonly eligible = new Map<string, bigint>()
  /** What each node committed to, by task (hex): its answer's score (empty for an error report) and salt. */
  private readonly committed = new Map<string, { score: Uint8Array; salt: Uint8Array }>()

  /** `index`: keep the public index of tasks by (creator, args) that adversaries read (off in honest-only runs, to save memory). */
  constructor(
    private readonly w: World,
    private readonly vrf: Vrf,
    readonly attester: Identity,
    index: boolean,
  ) {
    // The chain's validation tasks belong to their T1's creator: it hears about them as about T1.
    w.watch((_, e) => {
      if (e.type !== 'validation_task_created') return
      const owner = this.w.taskOwners.get(e.attrs.validation_of!)
      if (owner) this.w.taskOwners.set(e.attrs.task!, owner)
    })
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
   * The creator's flow, driven by its tasks' events: read the VRF once T1's seed is fixed (what the
   * creator knows); validate T1 once its node's commitment is in a block; if the VRF selected it, the
   * chain creates the group, whose tasks are listed on T1.
   */
  onTaskEvent(app: Identity, _owner: Agent, h: CreatedTask, e: ChainEvent, _rng: Rng): void {
    const t1 = h.members[0]!
    if (e.type === 'sampling_seed' && e.attrs.task === t1 && h.sampled === undefined) {
      const task = this.w.read.task(unhex(t1))!
      const proof = this.vrf.prove(h.vrfSecretKey, task.samplingSeed)
      h.sampled = isSelectedForValidation(this.vrf.beta(proof), BigInt(task.samplingRate))
      if (h.sampled) this.sampledTasks.add(t1)
    }
    if (e.type === 'task_status' && e.attrs.task === t1 && e.attrs.to === 'TASK_STATUS_GROUP_PENDING') {
      const root = this.w.read.task(unhex(t1))
      if (root) h.members = [t1, ...root.validationTasks.map(hex)]
    }
    if (e.type === 'task_status' && e.attrs.task === t1 && isTerminal(TaskStatus[e.attrs.to as keyof typeof TaskStatus])) h.done = true
    if (e.type === 'task_status' && e.attrs.task === t1 && e.attrs.to === 'TASK_STATUS_SCORE_READY') this.maybeValidate(app, h)
  }

  private maybeValidate(app: Identity, h: CreatedTask): void {
    if (!h.validates || h.validateSent || h.sampled === undefined) return
    const t1 = this.w.read.task(unhex(h.members[0]!))
    if (t1?.status !== TaskStatus.TASK_STATUS_SCORE_READY) return
    this.validate(app, h, [h.members[0]!])
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
  createCandidate(_app: Identity, _owner: Agent, _h: CreatedTask, _rng: Rng, _requiredGpu?: string): string | false {
    return false
  }

  /** Validates the chosen three as a group: the chain spawns groups, so a creator has no such choice. */
  validateChosen(_app: Identity, _h: CreatedTask, _chosen: string[]): boolean {
    return false
  }

  /** Whether the creator's VRF selects a task with this seed and rate (what a colluding creator checks before choosing). */
  selects(h: CreatedTask, commitment: string): boolean {
    const t = this.w.read.task(unhex(commitment))
    if (!t || t.samplingSeed.length === 0) return false
    return isSelectedForValidation(this.vrf.beta(this.vrf.prove(h.vrfSecretKey, t.samplingSeed)), BigInt(t.samplingRate))
  }

  // ---- the node's side ---------------------------------------------------------------------------

  /** The node's answer to a task it runs: a commitment to it, with a salt the node keeps. */
  answer(node: Identity, task: Task, a: Answer): void {
    const c = hex(task.taskIdCommitment)
    const score = a.kind === 'score' ? a.score : new Uint8Array()
    const salt = sha256(Buffer.from('sim/salt'), Buffer.from(node.address), task.taskIdCommitment)
    this.committed.set(c, { score, salt })
    this.w.submit(node, [
      { typeUrl: T('MsgSubmitScore'), value: { node: node.address, taskIdCommitment: task.taskIdCommitment, scoreCommitment: sha256(score, salt) } },
    ])
  }

  /** Opens the node's commitment when its group asks (all three committed). `answer` is what the node reveals now. */
  revealIfAsked(node: Identity, e: ChainEvent, answer: Answer | undefined): void {
    if (e.type !== 'group_reveal' || !answer) return
    const c = this.committed.get(e.attrs.task!)
    if (!c) return
    const score = answer.kind === 'score' ? answer.score : new Uint8Array()
    this.w.submit(node, [{ typeUrl: T('MsgRevealResult'), value: { node: node.address, taskIdCommitment: unhex(e.attrs.task!), score, salt: c.salt } }])
  }

  /** Whether this event tells the node that its task is validated and its file is wanted. */
  uploadWanted(e: ChainEvent): boolean {
    return e.type === 'task_status' && (e.attrs.to === 'TASK_STATUS_VALIDATED' || e.attrs.to === 'TASK_STATUS_GROUP_VALIDATED')
  }

  /**
   * The node uploads the file behind its answer; the gateway checks it and attests, a single task's
   * attestation carrying the reveal. An error report has no file: the node opens it on chain.
   */
  upload(node: Identity, taskIdCommitment: Uint8Array, a: Answer): void {
    const c = this.committed.get(hex(taskIdCommitment))
    const t = this.w.read.task(taskIdCommitment)
    if (!c || !t) return
    const single = t.status === TaskStatus.TASK_STATUS_VALIDATED
    if (a.kind !== 'score') {
      if (single)
        this.w.submit(node, [{ typeUrl: T('MsgRevealResult'), value: { node: node.address, taskIdCommitment, score: new Uint8Array(), salt: c.salt } }])
      return
    }
    this.w.submit(this.attester, [
      {
        typeUrl: T('MsgAttestResult'),
        value: { attester: this.attester.address, taskIdCommitment, resultHash: resultHash(a.score), ...(single ? { score: c.score, salt: c.salt } : {}) },
      },
    ])
  }

  // ---- what a participant can learn from public state ------------------------------------------

  /**
   * The tasks of this task's validation group as public state shows them: the group is listed on
   * T1 once the chain created it (after T1's commitment); a validation task names its T1. T1 first.
   */
  visibleGroup(task: Task): string[] {
    const root = task.validationOf.length ? this.w.read.task(task.validationOf) : task
    if (!root) return [hex(task.taskIdCommitment)]
    return [hex(root.taskIdCommitment), ...root.validationTasks.map(hex)]
  }

  /** Whether public state shows this task to be a validation seat: the chain created it for a T1. */
  looksLikeValidationSeat(task: Task): boolean {
    return task.validationOf.length > 0
  }

  /** Whether public state shows this (first) task to be sampled: only once its group exists, after its commitment. */
  looksSampled(task: Task): boolean {
    const now = this.w.read.task(task.taskIdCommitment)
    return (now?.validationTasks.length ?? 0) > 0
  }

  /** The serving nodes that met every filter of the task when it was created (its task_created event). */
  eligibleAtCreation(commitment: string): bigint {
    return this.eligible.get(commitment) ?? 0n
  }

  /** Another node's answer, if public state shows it: only a revealed score (after the whole group committed). */
  publicScore(commitment: string): Uint8Array | undefined {
    const t = this.w.read.task(unhex(commitment))
    return t && t.score.length > 0 ? t.score : undefined
  }
}
