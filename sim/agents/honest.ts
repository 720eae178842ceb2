import type { GpuModel, SimContext } from '../context.ts'
import { NodeAgent } from './node.ts'

/**
 * An honest GPU operator: a registry class, execution times drawn per class and task
 * (log-normal around the chain's estimate), pHash noise within the threshold, rare crashes (the
 * task times out), pauses and resumes; it rejoins if it is ever kicked out.
 */
export class HonestNode extends NodeAgent {
  constructor(sim: SimContext, label: string, gpu: GpuModel) {
    super(sim, 'honest', label, gpu, { respawn: true, churn: true, fromGenesis: true })
  }
}
