import type { Identity, SimTxResult } from './chain.ts'
import type { ChainEvent, World } from './world.ts'

const amountOf = (s: string | undefined) => (s ? BigInt(s.replace(/[a-z]+$/, '')) : 0n)

/** The event types the measures read. */
const MEASURED = new Set(['task_payment', 'node_slashed', 'node_kicked_out', 'task_created', 'task_status'])

/** What one strategy's participants did and got, over one run. All amounts are uberyl. */
export interface StrategyTally {
  identities: number
  /** Capital the strategy put in: stakes and app budgets funded from outside. */
  funded: bigint
  stakeCommitted: bigint
  income: bigint
  slashed: bigint
  slashes: number
  kickedOut: number
  txs: number
  txFees: bigint
  computeCost: bigint
  /** Tasks its nodes started; tasks its applications created. */
  tasksRun: number
  tasksCreated: number
  /** Per attack kind, how many times the strategy tried it (each adversary's test reads these). */
  attempts: Record<string, number>
}

const emptyTally = (): StrategyTally => ({
  identities: 0,
  funded: 0n,
  stakeCommitted: 0n,
  income: 0n,
  slashed: 0n,
  slashes: 0,
  kickedOut: 0,
  txs: 0,
  txFees: 0n,
  computeCost: 0n,
  tasksRun: 0,
  tasksCreated: 0,
  attempts: {},
})

/** One task the attacker cheated on as T1, with the numbers the closed form needs. */
export interface AttackRecord {
  strategy: string
  t1: string
  fee: bigint
  rate: bigint
  eligible: bigint
  attackerEligible: bigint
  stake: bigint
}

/**
 * The run's measures, read from the chain's events (payments, slashes, status changes) and from
 * what agents report about themselves (compute spent, attacks attempted). Nothing here reaches
 * into the modules' state.
 */
export class Measures {
  readonly tallies = new Map<string, StrategyTally>()
  /** Every identity of each strategy (for its balance sheet at the end). */
  readonly members = new Map<string, Identity[]>()
  private readonly strategyOf = new Map<string, string>()
  /** Payments to non-honest addresses, by task: for attributing attack income to the attacked groups. */
  private readonly advPay = new Map<string, bigint>()
  private readonly advSlash = new Map<string, bigint>()
  readonly attacks: AttackRecord[] = []
  /** Honest applications' tasks: created height, delivered height. */
  private readonly created = new Map<string, bigint>()
  readonly latencies: bigint[] = []
  readonly outcomes: Record<string, number> = {}
  delivered = 0
  validatedByCreator = 0
  honestTasks = 0
  honestSlashes = 0
  /** Latency and delivery are measured on these tasks only: the honest demand's own tasks (T1s, not validation copies). */
  readonly measuredTasks = new Set<string>()
  /** Failed txs by message type and log start (a run's sanity check). */
  readonly failures: Record<string, number> = {}

  constructor(
    w: World,
    readonly txFee: bigint,
  ) {
    w.watch((world, e) => this.onEvent(world, e))
  }

  tally(strategy: string): StrategyTally {
    let t = this.tallies.get(strategy)
    if (!t) this.tallies.set(strategy, (t = emptyTally()))
    return t
  }

  /** An identity joins a strategy, with the capital funded to it from outside. */
  enrol(strategy: string, id: Identity, funded: bigint): void {
    this.strategyOf.set(id.address, strategy)
    const l = this.members.get(strategy)
    if (l) l.push(id)
    else this.members.set(strategy, [id])
    const t = this.tally(strategy)
    t.identities++
    t.funded += funded
  }

  strategy(address: string): string | undefined {
    return this.strategyOf.get(address)
  }

  attempt(strategy: string, kind: string, n = 1): void {
    const a = this.tally(strategy).attempts
    a[kind] = (a[kind] ?? 0) + n
  }

  compute(strategy: string, cost: bigint): void {
    this.tally(strategy).computeCost += cost
  }

  stake(strategy: string, amount: bigint): void {
    this.tally(strategy).stakeCommitted += amount
  }

  tx(signer: Identity, r: SimTxResult): void {
    if (r.code !== 0) {
      const k = `${r.codespace}/${r.code}: ${r.log.slice(0, 60)}`
      this.failures[k] = (this.failures[k] ?? 0) + 1
    }
    const s = this.strategyOf.get(signer.address)
    if (!s || r.rejected) return
    const t = this.tally(s)
    t.txs++
    t.txFees += this.txFee
  }

  attack(rec: AttackRecord): void {
    this.attacks.push(rec)
  }

  private onEvent(w: World, e: ChainEvent): void {
    if (!MEASURED.has(e.type)) return
    const a = e.attrs
    if (e.type === 'task_payment' && a.to?.startsWith('node:')) {
      const node = a.to.slice(5)
      const s = this.strategyOf.get(node)
      if (!s) return
      const amt = amountOf(a.amount)
      this.tally(s).income += amt
      if (s !== 'honest') this.advPay.set(a.task!, (this.advPay.get(a.task!) ?? 0n) + amt)
    } else if (e.type === 'node_slashed') {
      const s = this.strategyOf.get(a.node!)
      if (!s) return
      const amt = amountOf(a.amount)
      const t = this.tally(s)
      t.slashes++
      t.slashed += amt
      if (s === 'honest') this.honestSlashes++
      else this.advSlash.set(a.task!, (this.advSlash.get(a.task!) ?? 0n) + amt)
    } else if (e.type === 'node_kicked_out') {
      const s = this.strategyOf.get(a.node!)
      if (s) this.tally(s).kickedOut++
    } else if (e.type === 'task_created') {
      const s = this.strategyOf.get(a.creator!)
      if (s) this.tally(s).tasksCreated++
      if (this.measuredTasks.delete(a.task!)) {
        this.created.set(a.task!, w.chain.height)
        this.honestTasks++
      }
    } else if (e.type === 'task_status') {
      if (a.to === 'TASK_STATUS_STARTED') {
        const s = this.strategyOf.get(a.node!)
        if (s) this.tally(s).tasksRun++
      }
      const c = this.created.get(a.task!)
      if (c === undefined) return
      if (a.to === 'TASK_STATUS_VALIDATED' || a.to === 'TASK_STATUS_GROUP_VALIDATED') this.validatedByCreator++
      // A T1 refunded in its group was delivered by the group's representative.
      if (a.to === 'TASK_STATUS_END_SUCCESS' || a.to === 'TASK_STATUS_END_GROUP_SUCCESS' || a.to === 'TASK_STATUS_END_GROUP_REFUND') {
        this.delivered++
        this.latencies.push(w.chain.height - c)
      }
      if (a.to?.startsWith('TASK_STATUS_END')) {
        const k = a.reason ? `${a.to.slice(12)}(${a.reason.slice(13)})` : a.to.slice(12)
        this.outcomes[k] = (this.outcomes[k] ?? 0) + 1
        this.created.delete(a.task!)
      }
    }
  }

  /** Tasks of the measured applications not yet ended. */
  openMeasured(): number {
    return this.created.size
  }

  /** Attack money on one task: payments to adversaries minus their slashes. */
  attackNet(task: string): bigint {
    return (this.advPay.get(task) ?? 0n) - (this.advSlash.get(task) ?? 0n)
  }

  /** Money the attacker got from, and lost in, the groups of the tasks it cheated on as T1 (closed-form accounting). */
  attackBalance(strategy: string, groupOf: (t1: string) => string[]): { tasks: number; net: bigint } {
    let net = 0n,
      tasks = 0
    for (const r of this.attacks) {
      if (r.strategy !== strategy) continue
      tasks++
      for (const m of groupOf(r.t1)) net += (this.advPay.get(m) ?? 0n) - (this.advSlash.get(m) ?? 0n)
    }
    return { tasks, net }
  }
}
