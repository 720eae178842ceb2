import type { Task } from '../../modules/task/index.ts'
import type { Identity } from '../chain.ts'
import type { GpuModel, SimContext } from '../context.ts'
import { fund } from '../context.ts'
import type { Answer } from '../protocol.ts'
import type { Rng } from '../rng.ts'
import { honestScore } from '../work.ts'
import type { Agent, ChainEvent, World } from '../world.ts'

const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))

/** What a node decides to do with a task it was given. */
export type Decision =
  /** Answer after `delay` seconds; `computed`: it ran the task (and pays for the compute). */
  | { answer: Answer; delay: number; computed: boolean }
  /** Never answer: the task times out. */
  | { silent: true }
  /** Look again after `wait` seconds (a strategy that watches public state before it commits). */
  | { wait: number; then: () => Decision }

/**
 * A GPU node: joins with the minimum stake on a registry class, hears of the tasks dispatched to
 * it, answers each as its strategy decides, uploads the file when the task is validated, and
 * rejoins under a new identity when slashed or kicked out (if `respawn`). Honest behaviour is the
 * default of every hook; an adversary overrides `decide` (and maybe `onAnyEvent`).
 */
export class NodeAgent implements Agent {
  id!: Identity
  protected readonly rng: Rng
  protected answers = new Map<string, Answer>()
  /**
   * Every identity this operator has had, by address. A real worker keeps each task's answer and salt
   * on disk before it commits, so an identity kicked out (or replaced after a rejoin) still reveals
   * and uploads what it committed; only a slashed identity has nothing left to win.
   */
  private readonly identities = new Map<string, Identity>()
  private generation = 0
  active = false

  constructor(
    protected readonly sim: SimContext,
    readonly strategy: string,
    readonly label: string,
    readonly gpu: GpuModel,
    protected readonly opts: { respawn?: boolean; joinAt?: bigint; churn?: boolean; fromGenesis?: boolean } = {},
  ) {
    this.rng = sim.rng.fork(`node/${label}`)
  }

  /** Capital an identity is funded with: the stake plus a purse for tx fees. */
  protected purse(): bigint {
    return this.sim.minStake + 10_000_000n
  }

  start(w: World): void {
    if (this.opts.fromGenesis && this.id) {
      this.join(w)
      return
    }
    w.at(this.opts.joinAt ?? w.now, () => this.newIdentity(w))
  }

  /** A genesis-funded identity (made before the chain's genesis so it can be in it). */
  genesisIdentity(w: World): Identity {
    this.id = w.identity(`${this.label}#0`)
    this.identities.set(this.id.address, this.id)
    w.own(this.id.address, this)
    this.sim.measures.enrol(this.strategy, this.id, this.purse())
    return this.id
  }

  protected newIdentity(w: World): void {
    this.id = w.identity(`${this.label}#${++this.generation}`)
    this.identities.set(this.id.address, this.id)
    w.own(this.id.address, this)
    this.sim.measures.enrol(this.strategy, this.id, this.purse())
    fund(this.sim, this.id, this.purse(), () => w.after(0, () => this.join(w)))
  }

  protected join(w: World): void {
    const id = this.id
    this.sim.measures.stake(this.strategy, this.sim.minStake)
    w.submit(
      id,
      [
        {
          typeUrl: '/beryl.staking.v1.MsgJoin',
          value: {
            address: id.address,
            gpuName: this.claimedGpu().name,
            gpuVramGb: this.claimedGpu().vramGb,
            runnerVersion: this.sim.taskVersion,
            modelIds: [this.sim.modelId],
            stake: this.sim.minStake.toString(),
          },
        },
      ],
      (r) => {
        if (r.code !== 0) throw new Error(`${id.label} could not join: ${r.log}`)
        this.active = true
        this.onJoined(w)
      },
    )
  }

  /** The class the node registers (a spoofer claims another). */
  protected claimedGpu(): GpuModel {
    return this.gpu
  }

  protected onJoined(w: World): void {
    if (this.opts.churn) this.scheduleChurn(w)
  }

  /** Availability churn: pauses (maintenance, the operator's own use of the GPU) and resumes. */
  private scheduleChurn(w: World): void {
    const gen = this.generation
    w.after(this.rng.exponential(6 * 3600), () => {
      if (!this.active || gen !== this.generation) return
      w.submit(this.id, [{ typeUrl: '/beryl.staking.v1.MsgPause', value: { address: this.id.address } }], (r) => {
        if (r.code !== 0) return
        w.after(this.rng.exponential(1800), () => {
          if (!this.active || gen !== this.generation) return
          w.submit(this.id, [{ typeUrl: '/beryl.staking.v1.MsgResume', value: { address: this.id.address } }], () => this.scheduleChurn(w))
        })
      })
    })
  }

  onEvent(w: World, e: ChainEvent): void {
    const me = this.identities.get(e.attrs.node ?? '')
    if (!me) return
    if (e.type === 'node_slashed' || e.type === 'node_kicked_out') {
      // A slashed identity's open tasks are aborted by the chain; a kicked-out one still reveals.
      if (e.type === 'node_slashed') this.identities.delete(me.address)
      if (me !== this.id) return
      this.active = false
      if (this.opts.respawn) w.after(60, () => this.newIdentity(w))
      return
    }
    if (e.type === 'group_reveal') return this.sim.protocol.revealIfAsked(me, e, this.answers.get(e.attrs.task!))
    if (e.type !== 'task_status') return
    const c = e.attrs.task!
    if (e.attrs.to === 'TASK_STATUS_STARTED') {
      if (me === this.id) this.onStarted(w, c)
    } else if (this.sim.protocol.uploadWanted(e)) {
      const a = this.answers.get(c)
      if (a) w.after(this.rng.float() * 5, () => this.sim.protocol.upload(me, unhex(c), a))
    } else {
      this.sim.protocol.revealIfAsked(me, e, this.answers.get(c))
      if (e.attrs.to?.startsWith('TASK_STATUS_END')) this.answers.delete(c)
    }
  }

  private onStarted(w: World, c: string): void {
    const task = w.read.task(unhex(c))
    if (!task) return
    this.act(w, c, task, this.decide(w, task))
  }

  private act(w: World, c: string, task: Task, d: Decision): void {
    if ('silent' in d) return
    const id = this.id
    if ('wait' in d) {
      w.after(d.wait, () => {
        if (id === this.id && this.active) this.act(w, c, task, d.then())
      })
      return
    }
    w.after(d.delay, () => {
      if (id !== this.id || !this.active) return
      if (d.computed) this.sim.measures.compute(this.strategy, this.computeCost(task))
      this.answers.set(c, d.answer)
      this.sim.protocol.answer(id, task, d.answer)
    })
  }

  /** Seconds this node's GPU takes for the task. */
  protected execSeconds(task: Task): number {
    return this.rng.lognormal(Number(task.estimatedSeconds) * this.sim.execShare * this.gpu.slowdown, 0.25)
  }

  protected computeCost(task: Task): bigint {
    return BigInt(Math.round(Number(task.fee) * this.sim.computeCostShare))
  }

  /** The honest answer: run it (rarely crash), then submit the score with this GPU's noise. */
  protected honest(task: Task): Decision {
    if (this.rng.chance(this.sim.crashRate)) return { silent: true }
    return { answer: { kind: 'score', score: honestScore(task, this.rng, this.sim.jitterBits) }, delay: this.execSeconds(task), computed: true }
  }

  protected decide(_w: World, task: Task): Decision {
    return this.honest(task)
  }
}
