import type { Task } from '../../modules/task/index.ts'
import type { Identity } from '../chain.ts'
import type { GpuModel, SimContext } from '../context.ts'
import { randomScore } from '../work.ts'
import type { Agent, World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

/**
 * Self-dealer: an application that pays its own nodes, to farm QoS and payments. Its tasks carry a
 * mark in their arguments; its nodes fake those (no compute) and run anyone else's honestly; the
 * application never validates, so the creator-validation timeout pays whichever node ran the task.
 */
export class SelfDealerNode extends NodeAgent {
  constructor(
    sim: SimContext,
    label: string,
    gpu: GpuModel,
    private readonly mark: string,
  ) {
    super(sim, 'self-dealer', label, gpu, { respawn: true })
  }
  protected decide(_w: World, task: Task): Decision {
    if (!task.args.includes(this.mark)) return this.honest(task)
    this.sim.measures.attempt(this.strategy, 'self-served')
    return { answer: { kind: 'score', score: randomScore(task, this.rng) }, delay: 1 + this.rng.float() * 4, computed: false }
  }
}

export class SelfDealerApp implements Agent {
  readonly strategy = 'self-dealer'
  id!: Identity
  constructor(
    private readonly sim: SimContext,
    readonly label: string,
    private readonly mark: string,
    private readonly rate: number,
    private readonly count: number,
    private readonly fee: bigint,
  ) {}
  start(w: World): void {
    const rng = this.sim.rng.fork(`self-dealer/${this.label}`)
    let made = 0
    const next = () => {
      if (made >= this.count) return
      made++
      this.sim.measures.attempt(this.strategy, 'self-task')
      this.sim.protocol.createTask(
        this.id,
        this,
        {
          type: 'image',
          args: JSON.stringify({ prompt: `${this.mark} ${made}`, width: 256, height: 256, steps: 20 }),
          modelId: this.sim.modelId,
          fee: this.fee,
          taskVersion: this.sim.taskVersion,
        },
        rng,
        false,
      )
      w.after(rng.exponential(1 / this.rate), next)
    }
    w.after(rng.exponential(1 / this.rate), next)
  }
}
