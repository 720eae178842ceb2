import type { Task } from '../../modules/task/index.ts'
import type { GpuModel, SimContext } from '../context.ts'
import type { World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

/**
 * Error-report abuser: answers every task it gets with an error report ("the parameters are
 * invalid") at once, hoping to be paid when the creator does not validate, or at least to leave
 * for free and take the next, better task.
 */
export class ErrorAbuser extends NodeAgent {
  constructor(sim: SimContext, label: string, gpu: GpuModel) {
    super(sim, 'error-abuser', label, gpu, { respawn: true })
  }
  protected decide(_w: World, _task: Task): Decision {
    this.sim.measures.attempt(this.strategy, 'error-report')
    return { answer: { kind: 'error' }, delay: 1 + this.rng.float() * 4, computed: false }
  }
}
