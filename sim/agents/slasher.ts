import type { Task } from '../../modules/task/index.ts'
import type { Identity } from '../chain.ts'
import type { GpuModel, SimContext } from '../context.ts'
import type { CreatedTask } from '../protocol.ts'
import { ringScore } from '../work.ts'
import type { Agent, ChainEvent, World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

/** The creator's two (or more) colluding nodes: they answer the creator's marked tasks with one agreed fake. */
export class SlasherNode extends NodeAgent {
  constructor(
    sim: SimContext,
    label: string,
    gpu: GpuModel,
    private readonly mark: string,
  ) {
    super(sim, 'slasher', label, gpu, { respawn: true })
  }
  protected decide(_w: World, task: Task): Decision {
    if (!task.args.includes(this.mark)) return this.honest(task)
    this.sim.measures.attempt(this.strategy, 'colluding-answer')
    return { answer: { kind: 'score', score: ringScore(task, this.mark) }, delay: this.execSeconds(task), computed: false }
  }
}

/**
 * Creator + Sybils slashing an honest node (seed 003): the creator makes several tasks under one
 * task id, filtered to its nodes' class, until one runs on an honest node whose VRF selects it and
 * two later ones run on its own nodes; it then validates those three as "the group", the two
 * agreed fakes outvote the honest answer, and the honest node is slashed. Where the protocol does
 * not let a creator choose the group, the adapter refuses and the attempt is counted as refused.
 */
export class SlasherApp implements Agent {
  readonly strategy = 'slasher'
  id!: Identity
  private attempt?: { h: CreatedTask; ranOn: Map<string, string>; made: number; started: bigint }
  private attempts = 0

  constructor(
    private readonly sim: SimContext,
    readonly label: string,
    private readonly mark: string,
    private readonly colluders: SlasherNode[],
    private readonly gpu: GpuModel,
    private readonly fee: bigint,
    private readonly maxAttempts: number,
    private readonly maxCandidates = 24,
  ) {}

  start(w: World): void {
    w.at(w.now + 600n, () => this.begin(w))
  }

  private begin(w: World): void {
    if (this.attempts >= this.maxAttempts) return
    this.attempts++
    const rng = this.sim.rng.fork(`slasher/${this.label}/${this.attempts}`)
    const spec = {
      type: 'image' as const,
      args: JSON.stringify({ prompt: `${this.mark} victim ${this.attempts}`, width: 256, height: 256, steps: 20 }),
      modelId: this.sim.modelId,
      fee: this.fee,
      requiredGpu: this.gpu.name,
      taskVersion: this.sim.taskVersion,
    }
    const h = this.sim.protocol.createTask(this.id, this, spec, rng, false)
    this.sim.measures.attempt(this.strategy, 'candidate-task')
    this.attempt = { h, ranOn: new Map(), made: 1, started: w.now }
    const more = () => {
      const a = this.attempt
      if (!a || a.h !== h || a.made >= this.maxCandidates) return
      if (this.sim.protocol.createCandidate(this.id, this, h, rng, this.gpu.name) === false) {
        this.sim.measures.attempt(this.strategy, 'refused-by-protocol')
        // One task per attempt, then: its colluders can only hope the chain puts the task or its seats on them.
        // The next attempt starts once this one has had time to run (not after the full candidate window).
        w.after(Number(w.blockSeconds) * 20, () => {
          if (this.attempt?.h !== h) return
          this.attempt = undefined
          this.begin(w)
        })
        return
      }
      this.sim.measures.attempt(this.strategy, 'candidate-task')
      a.made++
      w.after(Number(w.blockSeconds) * 2, more)
    }
    w.after(Number(w.blockSeconds) * 2, more)
    // Give the candidates time to run; if no group was usable by then, give up and start the next attempt.
    w.after(1800, () => {
      if (this.attempt?.h !== h) return
      this.choose(w)
      this.begin(w)
    })
  }

  onEvent(w: World, e: ChainEvent): void {
    if (e.type !== 'task_status' || !this.attempt?.h.members.includes(e.attrs.task!)) return
    if (e.attrs.to === 'TASK_STATUS_STARTED') this.attempt.ranOn.set(e.attrs.task!, e.attrs.node!)
    // Each new answer may complete a usable group: choose as soon as one exists.
    if (e.attrs.to === 'TASK_STATUS_SCORE_READY') this.choose(w, false)
  }

  /** Picks the victim and two colluders' tasks; `final`: the attempt's time is up (counted when nothing usable came of it). */
  private choose(w: World, final = true): void {
    const a = this.attempt
    if (!a) return
    const ours = new Set(this.colluders.map((c) => c.id?.address))
    const scored = a.h.members
      .map((c) => ({ c, t: w.read.task(new Uint8Array(Buffer.from(c, 'hex'))) }))
      .filter((x) => x.t && x.t.status === 4 /* SCORE_READY */)
      .sort((x, y) => (x.t!.sequence < y.t!.sequence ? -1 : 1))
    for (let i = 0; i < scored.length; i++) {
      const victim = scored[i]!
      if (ours.has(victim.t!.selectedNode) || !this.sim.protocol.selects(a.h, victim.c)) continue
      const later = scored.slice(i + 1).filter((x) => ours.has(x.t!.selectedNode))
      if (later.length < 2) continue
      this.attempt = undefined
      if (this.sim.protocol.validateChosen(this.id, a.h, [victim.c, later[0]!.c, later[1]!.c])) this.sim.measures.attempt(this.strategy, 'group-chosen')
      else this.sim.measures.attempt(this.strategy, 'refused-by-protocol')
      w.after(60, () => this.begin(w))
      return
    }
    if (!final) return
    this.attempt = undefined
    this.sim.measures.attempt(this.strategy, 'no-usable-group')
  }
}
