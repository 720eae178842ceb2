import type { Task } from '../../modules/task/index.ts'
import type { Identity } from '../chain.ts'
import type { GpuModel, SimContext } from '../context.ts'
import type { CreatedTask } from '../protocol.ts'
import { randomScore } from '../work.ts'
import type { Agent, ChainEvent, World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

/**
 * VRAM/GPU spoofer (seed 002's 64 GB trick): small GPUs registered as a big, rare class, so that
 * the tasks only that class may run (high-VRAM filters) come to the spoofer, which cannot run them
 * and fakes them. Its own application also creates tasks filtered to the claimed class, where the
 * spoofer is most of the class and holds the validation seats too.
 */
export class SpooferNode extends NodeAgent {
  constructor(
    sim: SimContext,
    label: string,
    gpu: GpuModel,
    readonly claimed: GpuModel,
  ) {
    super(sim, 'spoofer', label, gpu, { respawn: true })
  }
  protected claimedGpu(): GpuModel {
    this.sim.measures.attempt(this.strategy, 'claimed-class')
    return this.claimed
  }
  protected decide(_w: World, task: Task): Decision {
    // The tasks of the claimed class do not fit in its real VRAM: it fakes them all.
    this.sim.measures.attempt(this.strategy, 'fake')
    return { answer: { kind: 'score', score: randomScore(task, this.rng) }, delay: 1 + this.rng.float() * 4, computed: false }
  }
}

/** The spoofer's own application: tasks it pays for, filtered to the class it claims. */
export class SpooferApp implements Agent {
  readonly strategy = 'spoofer'
  id!: Identity
  private readonly open = new Map<string, CreatedTask>()
  constructor(
    private readonly sim: SimContext,
    readonly label: string,
    private readonly claimed: GpuModel,
    private readonly count: number,
    private readonly fee: bigint,
  ) {}
  start(w: World): void {
    const rng = this.sim.rng.fork(`spoofer-app/${this.label}`)
    for (let i = 0; i < this.count; i++) {
      w.at(w.now + 600n + BigInt(i) * 120n, () => {
        this.sim.measures.attempt(this.strategy, 'self-task')
        const h = this.sim.protocol.createTask(
          this.id,
          this,
          {
            type: 'image',
            args: JSON.stringify({ prompt: `spoof ${i}`, width: 256, height: 256, steps: 20 }),
            modelId: this.sim.modelId,
            fee: this.fee,
            requiredGpu: this.claimed.name,
            taskVersion: this.sim.taskVersion,
          },
          rng,
        )
        for (const m of h.members) this.open.set(m, h)
      })
    }
  }
  onEvent(_w: World, e: ChainEvent): void {
    const h = this.open.get(e.attrs.task!)
    if (!h) return
    const n = h.members.length
    this.sim.protocol.onTaskEvent(this.id, this, h, e, this.sim.rng)
    for (const m of h.members.slice(n)) this.open.set(m, h)
  }
}
