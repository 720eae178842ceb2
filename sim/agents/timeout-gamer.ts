import type { Task } from '../../modules/task/index.ts'
import type { GpuModel, SimContext } from '../context.ts'
import type { World } from '../world.ts'
import type { Decision } from './node.ts'
import { Ring, SybilNode } from './sybil.ts'

/**
 * Timeout gamer: fakes T1 at once; a validation seat of its own T1 it lets time out rather than
 * answer, betting that a group with one fake, one honest answer and one timeout ends with nobody
 * slashed (issue 10, attack 5), or that a late group lets the creator-validation timeout pay T1.
 */
export class TimeoutGamer extends SybilNode {
  constructor(sim: SimContext, label: string, gpu: GpuModel, ring: Ring) {
    super(sim, label, gpu, ring, 'timeout-gamer')
  }
  protected decide(w: World, task: Task): Decision {
    const p = this.sim.protocol
    if (p.looksLikeValidationSeat(task)) {
      if (!this.ringHoldsT1(w, task)) return this.honest(task)
      this.sim.measures.attempt(this.strategy, 'seat-timed-out')
      return { silent: true }
    }
    this.sim.measures.attempt(this.strategy, 'fake-t1')
    return this.fake(task, 1 + this.rng.float() * 4)
  }
}
