import type { Identity } from '../chain.ts'
import type { GpuModel, SimContext } from '../context.ts'
import type { Agent, World } from '../world.ts'
import { NodeAgent } from './node.ts'

/**
 * Queue flooder (issue 10, attack 7): registers just enough nodes of one class to be allowed to
 * create tasks for it, floods the queue with high-fee tasks filtered to that class, then pauses
 * its nodes so that nothing can run them: the tasks sit at the top of the queue until the queue
 * timeout refunds them in full. It measures whether anyone else's tasks wait longer.
 */
export class FlooderNode extends NodeAgent {
  constructor(sim: SimContext, label: string, gpu: GpuModel) {
    super(sim, 'flooder', label, gpu, {})
  }
  pause(w: World): void {
    if (!this.active) return
    this.sim.measures.attempt(this.strategy, 'paused-class')
    w.submit(this.id, [{ typeUrl: '/beryl.staking.v1.MsgPause', value: { address: this.id.address } }])
  }
}

export class FlooderApp implements Agent {
  readonly strategy = 'flooder'
  id!: Identity
  constructor(
    private readonly sim: SimContext,
    readonly label: string,
    private readonly nodes: FlooderNode[],
    private readonly gpu: GpuModel,
    private readonly count: number,
    private readonly fee: bigint,
  ) {}
  start(w: World): void {
    const rng = this.sim.rng.fork(`flooder/${this.label}`)
    // Once its nodes serve, in one burst: the flood, then every node of the class pauses.
    w.at(w.now + 300n, () => {
      for (let i = 0; i < this.count; i++) {
        this.sim.measures.attempt(this.strategy, 'flood-task')
        this.sim.protocol.createTask(
          this.id,
          this,
          {
            type: 'image',
            args: JSON.stringify({ prompt: `flood ${i}`, width: 256, height: 256, steps: 20 }),
            modelId: this.sim.modelId,
            fee: this.fee,
            requiredGpu: this.gpu.name,
            taskVersion: this.sim.taskVersion,
          },
          rng,
          false,
        )
      }
      for (const n of this.nodes) n.pause(w)
    })
  }
}
