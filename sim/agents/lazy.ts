import type { Task } from '../../modules/task/index.ts'
import type { GpuModel, SimContext } from '../context.ts'
import { randomScore } from '../work.ts'
import type { World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

/** Lazy node: fakes every output at once (a random fingerprint, and a file that matches it). */
export class LazyNode extends NodeAgent {
  constructor(sim: SimContext, label: string, gpu: GpuModel) {
    super(sim, 'lazy', label, gpu, { respawn: true })
  }
  protected decide(_w: World, task: Task): Decision {
    this.sim.measures.attempt(this.strategy, 'fake')
    return { answer: { kind: 'score', score: randomScore(task, this.rng) }, delay: 1 + this.rng.float() * 4, computed: false }
  }
}
