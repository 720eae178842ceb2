import type { Task } from '../../modules/task/index.ts'
import type { GpuModel, SimContext } from '../context.ts'
import { randomScore } from '../work.ts'
import type { World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

/**
 * Sampling-aware lazy node: fakes only when it believes nobody will check. It answers a task that
 * public state shows to be a validation seat honestly; as T1 it waits as long as honest work
 * would take, watching public state for the task's validation group, then runs the task if a
 * group appeared and fakes it if none did (issue 10, attack 1).
 */
export class SamplingAwareNode extends NodeAgent {
  constructor(sim: SimContext, label: string, gpu: GpuModel) {
    super(sim, 'sampling-aware', label, gpu, { respawn: true })
  }
  protected decide(_w: World, task: Task): Decision {
    const p = this.sim.protocol
    if (p.looksLikeValidationSeat(task)) return this.honest(task)
    return {
      wait: this.execSeconds(task),
      then: () => {
        this.sim.measures.attempt(this.strategy, 'watch')
        if (p.looksSampled(task)) {
          this.sim.measures.attempt(this.strategy, 'computed-when-sampled')
          return this.honest(task)
        }
        this.sim.measures.attempt(this.strategy, 'fake')
        return { answer: { kind: 'score', score: randomScore(task, this.rng) }, delay: 0, computed: false }
      },
    }
  }
}
