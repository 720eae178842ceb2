import type { Event } from '../chain/events.ts'
import type { Task } from '../modules/task/index.ts'
import { SimChain, identity, type Identity, type SimMsg, type SimTx, type SimTxResult } from './chain.ts'
import { Rng } from './rng.ts'

/** An event with its attributes as an object (what a client subscribed to the chain's events reads). */
export interface ChainEvent {
  type: string
  attrs: Record<string, string>
}

/** What every participant of the twin is: a strategy object reacting to blocks and to its own timers. */
export interface Agent {
  /** The strategy's name in reports ("honest", "lazy", …). */
  readonly strategy: string
  /** Called once, before the first block. */
  start?(w: World): void
  /** An event about one of this agent's addresses (a node's task, slash) or tasks (an app's). */
  onEvent?(w: World, e: ChainEvent): void
}

export interface TimedAction {
  time: bigint
  seq: number
  run: () => void
}

/** A min-heap of timed actions, ordered by (time, insertion order): deterministic ties. */
class Timers {
  private h: TimedAction[] = []
  private seq = 0
  get size(): number {
    return this.h.length
  }
  push(time: bigint, run: () => void): void {
    const a = { time, seq: this.seq++, run }
    const h = this.h
    h.push(a)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }
  peek(): TimedAction | undefined {
    return this.h[0]
  }
  pop(): TimedAction | undefined {
    const h = this.h
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}
const before = (a: TimedAction, b: TimedAction) => a.time < b.time || (a.time === b.time && a.seq < b.seq)

/** The event types `deliver` routes to the agents they concern. */
const ROUTED = new Set(['group_reveal', 'node_slashed', 'node_kicked_out', 'task_status', 'sampling_seed', 'task_created'])

/**
 * An event with its attributes as an object, built on first read: most of a block's events (coin
 * movements, node status changes) are read by nobody, and a run of a million tasks has tens of millions.
 */
function chainEvent(r: Event): ChainEvent {
  let attrs: Record<string, string> | undefined
  return {
    type: r.type,
    get attrs() {
      if (!attrs) {
        attrs = {}
        for (const a of r.attributes) attrs[a.key] = a.value
      }
      return attrs
    },
  }
}

/** Listens to every event of every block (measures, and adversaries that watch the whole chain). */
export type Watcher = (w: World, e: ChainEvent) => void

/**
 * The twin's world: the chain, the clock, the participants and the mail between them. Agents
 * queue transactions (`submit`) and timers (`at`); each block runs the due timers, then the
 * queued transactions through the real modules, then hands the block's events to the agents they
 * concern (a node hears about its tasks, an app about its tasks) and to the watchers.
 */
export class World {
  readonly rng: Rng
  private pending: Array<{ tx: SimTx; then?: (r: SimTxResult) => void }> = []
  private readonly timers = new Timers()
  /** Who is behind an address (nodes, apps, the gateway). */
  readonly owners = new Map<string, Agent>()
  /** Which agent created a task (hex commitment). */
  readonly taskOwners = new Map<string, Agent>()
  readonly agents: Agent[] = []
  private readonly watchers: Watcher[] = []
  /** Identities made so far, by label (labels are unique). */
  private readonly identities = new Map<string, Identity>()
  /** Told about every tx after its block (the measures count fees by strategy). */
  onTx?: (signer: Identity, r: SimTxResult) => void

  constructor(
    readonly chain: SimChain,
    readonly seed: string,
    readonly blockSeconds: bigint,
  ) {
    this.rng = new Rng(seed, 'world')
  }

  /** While the due timers of a block run, the time of that block (so a timer set from a timer is measured from it). */
  private building?: bigint

  get now(): bigint {
    return this.building ?? this.chain.time
  }

  /** A new account key; `label` names it for the run (deterministic from the seed). */
  identity(label: string): Identity {
    if (this.identities.has(label)) throw new Error(`identity ${label} made twice`)
    const id = identity(this.seed, label)
    this.identities.set(label, id)
    return id
  }

  /** Every identity made, by address (a recorded run's replay signs with these keys). */
  identitiesByAddress(): Map<string, Identity> {
    return new Map([...this.identities.values()].map((i) => [i.address, i]))
  }

  add(agent: Agent): void {
    this.agents.push(agent)
  }

  own(address: string, agent: Agent): void {
    this.owners.set(address, agent)
  }

  watch(w: Watcher): void {
    this.watchers.push(w)
  }

  /** Queues a transaction for the next block; `then` gets its result after the block. */
  submit(signer: Identity, msgs: SimMsg[], then?: (r: SimTxResult) => void): void {
    this.pending.push({ tx: { signer, msgs }, then })
  }

  /** Runs `fn` before the first block whose time is ≥ `time` (at once if that is the next block). */
  at(time: bigint, fn: () => void): void {
    this.timers.push(time, fn)
  }

  after(seconds: number, fn: () => void): void {
    this.at(this.now + BigInt(Math.max(0, Math.ceil(seconds))), fn)
  }

  /** Typed reads of committed state (the same data the Task/Node/Balance queries return). */
  readonly read = {
    task: (commitment: Uint8Array): Task | undefined => this.chain.modules.keepers.task.getTask(this.chain.view(), commitment),
    node: (address: string) => this.chain.modules.keepers.staking.getNode(this.chain.view(), address),
    balance: (address: string): bigint => this.chain.modules.keepers.bank.balance(this.chain.view(), address, 'uberyl'),
    vssParams: () => this.chain.modules.keepers.vss.params(this.chain.view()),
  }

  async start(): Promise<void> {
    for (const a of this.agents) a.start?.(this)
  }

  /** Produces one block at now + blockSeconds. */
  async step(): Promise<void> {
    const t = this.chain.time + this.blockSeconds
    this.building = t
    for (let a = this.timers.peek(); a && a.time <= t; a = this.timers.peek()) {
      this.timers.pop()
      a.run()
    }
    this.building = undefined
    const batch = this.pending
    this.pending = []
    const raw = await this.chain.block(
      t,
      batch.map((b) => b.tx),
    )
    for (const b of batch) {
      this.onTx?.(b.tx.signer, b.tx.result!)
      b.then?.(b.tx.result!)
    }
    this.deliver(raw)
  }

  private deliver(raw: Event[]): void {
    for (const r of raw) {
      const e = chainEvent(r)
      for (const w of this.watchers) w(this, e)
      if (!ROUTED.has(e.type)) continue
      const attrs = e.attrs
      // A group's reveals open: each member's node hears it for its own task.
      if (e.type === 'group_reveal') {
        const members = (attrs.members ?? '').split(','),
          nodes = (attrs.nodes ?? '').split(',')
        nodes.forEach((n, i) =>
          this.owners.get(n)?.onEvent?.(this, { type: 'group_reveal', attrs: { task: members[i]!, node: n, deadline: attrs.deadline ?? '' } }),
        )
      }
      const node = e.type === 'node_slashed' || e.type === 'node_kicked_out' || e.type === 'task_status' ? attrs.node : undefined
      if (node) this.owners.get(node)?.onEvent?.(this, e)
      if (attrs.task && (e.type === 'task_status' || e.type === 'sampling_seed' || e.type === 'task_created')) {
        const owner = this.taskOwners.get(attrs.task)
        if (owner && owner !== this.owners.get(node ?? '')) owner.onEvent?.(this, e)
      }
    }
  }
}
