import { NodeStatus } from '../../modules/staking/index.ts'
import { type Task, TaskType, nodeMeets } from '../../modules/task/index.ts'
import type { GpuModel, SimContext } from '../context.ts'
import { honestScore, ringScore } from '../work.ts'
import type { World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** What a ring's nodes share: a secret (so their fakes are identical without talking) and who is in. */
export class Ring {
  readonly members = new Set<string>()
  constructor(readonly secret: string) {}
}

/**
 * Sybil ring (the plain Sybil attack the closed form prices): every node of the ring fakes a task it
 * holds as T1 with the ring's fake for those arguments, and on a validation seat whose T1 the ring
 * holds it submits the same fake, so two fakes outvote the honest third. A seat of an honest T1 is
 * computed honestly. It answers after an honest-looking delay, so its nodes are as available as
 * honest ones (a faster faker would also win more dispatches, and more seats, than its share).
 */
export class SybilNode extends NodeAgent {
  constructor(
    sim: SimContext,
    label: string,
    gpu: GpuModel,
    readonly ring: Ring,
    strategy = 'sybil',
  ) {
    super(sim, strategy, label, gpu, { respawn: true })
  }

  protected onJoined(w: World): void {
    this.ring.members.add(this.id.address)
    super.onJoined(w)
  }

  onEvent(w: World, e: import('../world.ts').ChainEvent): void {
    if ((e.type === 'node_slashed' || e.type === 'node_kicked_out') && e.attrs.node === this.id?.address) this.ring.members.delete(this.id.address)
    super.onEvent(w, e)
  }

  /** T1 of the task's visible group, and whether the ring holds it. */
  protected ringHoldsT1(w: World, task: Task): boolean {
    const t1 = this.sim.protocol.visibleGroup(task)[0]!
    const t = w.read.task(new Uint8Array(Buffer.from(t1, 'hex')))
    return !!t && this.ring.members.has(t.selectedNode)
  }

  protected fake(task: Task, delay: number): Decision {
    return { answer: { kind: 'score', score: ringScore(task, this.ring.secret) }, delay, computed: false }
  }

  protected decide(w: World, task: Task): Decision {
    const p = this.sim.protocol
    if (p.looksLikeValidationSeat(task)) {
      if (!this.ringHoldsT1(w, task)) return this.honest(task)
      this.sim.measures.attempt(this.strategy, 'seat-captured')
      return this.fake(task, this.execSeconds(task))
    }
    this.sim.measures.attempt(this.strategy, 'fake-t1')
    // The closed form's q is the odds of a uniform draw from the n eligible nodes, d of them the ring's. A text task
    // without a GPU class draws its seats from T1's class, not from the n its rate was computed for: the closed form
    // does not describe it, and it is left out of that accounting (its money still counts in the strategy's profit).
    if (!(task.taskType === TaskType.TASK_TYPE_TEXT && !task.requiredGpu))
      this.sim.measures.attack({
        strategy: this.strategy,
        t1: hex(task.taskIdCommitment),
        fee: BigInt(task.fee),
        rate: BigInt(task.samplingRate),
        eligible: this.sim.protocol.eligibleAtCreation(hex(task.taskIdCommitment)),
        attackerEligible: this.ringEligible(w, task),
        stake: this.sim.minStake,
      })
    return this.fake(task, this.execSeconds(task))
  }

  /** The ring's nodes that serve and meet the task's filters (a ring node of another class cannot take its seats). */
  private ringEligible(w: World, task: Task): bigint {
    let d = 0n
    for (const a of this.ring.members) {
      const n = w.read.node(a)
      if (!n || (n.status !== NodeStatus.NODE_STATUS_AVAILABLE && n.status !== NodeStatus.NODE_STATUS_BUSY)) continue
      if (nodeMeets(n, task)) d++
    }
    return d
  }
}

export { honestScore }
