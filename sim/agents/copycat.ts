import type { Task } from '../../modules/task/index.ts'
import type { GpuModel, SimContext } from '../context.ts'
import type { World } from '../world.ts'
import { NodeAgent, type Decision } from './node.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/**
 * Copycat: on a validation seat it copies another member's answer as soon as public state shows
 * one, instead of computing (issue 10, attack 2); it computes when nothing shows up in time, and
 * as T1 it is honest.
 */
export class Copycat extends NodeAgent {
  constructor(sim: SimContext, label: string, gpu: GpuModel) {
    super(sim, 'copycat', label, gpu, { respawn: true })
  }
  protected decide(w: World, task: Task): Decision {
    const p = this.sim.protocol
    if (!p.looksLikeValidationSeat(task)) return this.honest(task)
    this.sim.measures.attempt(this.strategy, 'seat')
    const giveUp = w.now + BigInt(Math.round(this.execSeconds(task)))
    const look = (): Decision => {
      this.sim.measures.attempt(this.strategy, 'looked')
      for (const m of p.visibleGroup(task)) {
        if (m === hex(task.taskIdCommitment)) continue
        const s = p.publicScore(m)
        if (s) {
          this.sim.measures.attempt(this.strategy, 'copied')
          return { answer: { kind: 'score', score: Uint8Array.from(s) }, delay: 0, computed: false }
        }
      }
      if (w.now >= giveUp) return this.honest(task)
      return { wait: Number(w.blockSeconds), then: look }
    }
    return look()
  }
}
