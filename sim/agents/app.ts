import type { Identity } from '../chain.ts'
import type { SimContext } from '../context.ts'
import type { CreatedTask, TaskSpec } from '../protocol.ts'
import type { Rng } from '../rng.ts'
import type { Agent, ChainEvent, World } from '../world.ts'

export interface FeeWeight {
  fee: bigint
  weight: number
}

export interface AppOptions {
  /** Mean tasks per second (Poisson arrivals). */
  rate: number
  /** Arrivals stop after this many tasks. */
  tasks: number
  fees: FeeWeight[]
  /** Share of text tasks (the rest are images). */
  textShare: number
  /** Probability that the application validates a task (the rest are left to the creator-validation timeout). */
  validateShare: number
  /** Bursts: with this probability an arrival brings 2–10 tasks at once. */
  burstShare: number
  /** Cancel a task still queued after this many seconds (0: never). */
  cancelAfter: number
}

/**
 * An application: tasks arrive as a Poisson process (with bursts), with a fee and type mix; each
 * goes through the SDK's flow (create, learn the sampling outcome, create the validation tasks if
 * sampled, validate when every member answered), cancelled if it waits too long in the queue; some
 * applications never validate.
 */
export class Application implements Agent {
  readonly strategy: string = 'app'
  id!: Identity
  readonly open = new Map<string, CreatedTask>()
  private created = 0
  protected readonly rng: Rng
  /** The arrival process's own clock: when it started, and the next arrival's offset from then (seconds, fractional). */
  private arrivalsFrom = 0n
  private nextArrival = 0

  constructor(
    protected readonly sim: SimContext,
    readonly label: string,
    protected readonly o: AppOptions,
  ) {
    this.rng = sim.rng.fork(`app/${label}`)
  }

  genesisIdentity(w: World, budget: bigint): Identity {
    this.id = w.identity(this.label)
    w.own(this.id.address, this)
    this.sim.measures.enrol(this.strategy, this.id, budget)
    return this.id
  }

  start(w: World): void {
    if (this.o.rate <= 0) return
    this.arrivalsFrom = w.now
    this.nextArrival = this.rng.exponential(1 / this.o.rate)
    this.wakeForNextArrival(w)
  }

  private wakeForNextArrival(w: World): void {
    w.at(this.arrivalsFrom + BigInt(Math.ceil(this.nextArrival)), () => this.arrive(w))
  }

  get done(): boolean {
    return this.created >= this.o.tasks
  }

  /**
   * Every arrival due by this block's time. The process keeps its own fractional clock: a demand faster
   * than the blocks brings several arrivals per block (a timer per arrival would round each gap up to
   * a block, capping every application at one arrival per block whatever the rate).
   */
  private arrive(w: World): void {
    const now = Number(w.now - this.arrivalsFrom)
    while (this.nextArrival <= now && this.created < this.o.tasks) {
      const n = this.rng.chance(this.o.burstShare) ? 2 + this.rng.int(9) : 1
      for (let i = 0; i < n && this.created < this.o.tasks; i++) this.createOne(w, this.spec())
      this.nextArrival += this.rng.exponential(1 / this.o.rate)
    }
    if (this.created < this.o.tasks) this.wakeForNextArrival(w)
  }

  protected pickFee(): bigint {
    const total = this.o.fees.reduce((a, f) => a + f.weight, 0)
    let r = this.rng.float() * total
    for (const f of this.o.fees) if ((r -= f.weight) < 0) return f.fee
    return this.o.fees[this.o.fees.length - 1]!.fee
  }

  protected spec(): TaskSpec {
    const text = this.rng.chance(this.o.textShare)
    const prompt = `${this.label} prompt ${this.created} ${this.rng.int(1e9)}`
    return {
      type: text ? 'text' : 'image',
      args: text ? JSON.stringify({ prompt, max_new_tokens: 128 }) : JSON.stringify({ prompt, width: 256, height: 256, steps: 20 }),
      modelId: this.sim.modelId,
      fee: this.pickFee(),
      taskVersion: this.sim.taskVersion,
    }
  }

  protected createOne(w: World, spec: TaskSpec): CreatedTask {
    this.created++
    const h = this.sim.protocol.createTask(this.id, this, spec, this.rng, this.rng.chance(this.o.validateShare))
    this.sim.measures.measuredTasks.add(h.members[0]!)
    this.open.set(h.members[0]!, h)
    for (const m of h.members) this.open.set(m, h)
    if (this.o.cancelAfter > 0) w.after(this.o.cancelAfter, () => this.cancelIfQueued(w, h))
    return h
  }

  private cancelIfQueued(w: World, h: CreatedTask): void {
    const t1 = h.members[0]!
    const t = w.read.task(new Uint8Array(Buffer.from(t1, 'hex')))
    if (t && t.status === 0 /* QUEUED */) {
      w.submit(this.id, [{ typeUrl: '/beryl.task.v1.MsgCancelTask', value: { creator: this.id.address, taskIdCommitment: t.taskIdCommitment } }])
    }
  }

  onEvent(_w: World, e: ChainEvent): void {
    const h = this.open.get(e.attrs.task!)
    if (!h) return
    const before = h.members.length
    this.sim.protocol.onTaskEvent(this.id, this, h, e, this.rng)
    for (const m of h.members.slice(before)) this.open.set(m, h)
    if (h.done) for (const m of h.members) this.open.delete(m)
  }
}
