import type { SimContext } from './context.ts'
import type { SimConfig } from './scenario.ts'
import type { World } from './world.ts'

/** Amounts in reports are BERYL with 6 decimals (exactly the uberyl), as numbers for charts. */
export const beryl = (u: bigint | number): number => Number(u) / 1e6

export interface StrategyResult {
  identities: number
  /** Capital funded from outside (stakes, purses, app budgets), BERYL. */
  capital: number
  /** Final holdings (balances + bonded stakes) − capital − compute spent, BERYL. */
  profit: number
  tasks: number
  profitPerTask: number
  /**
   * What the strategy gains over the same capital doing honest work, per task: (profit − capital × the
   * honest nodes' profit per unit of capital) / tasks. Set for every adversary (node and application
   * strategies alike); the verdict is on it.
   */
  excessPerTask?: number
  /** profit / capital. */
  profitPerCapital: number
  income: number
  slashed: number
  slashes: number
  kickedOut: number
  txs: number
  computeCost: number
  attempts: Record<string, number>
}

export interface RunResult {
  config: { preset: string; seed: string; nodes: number; tasks: number; adversary: string; share: number; fees: SimConfig['fees']; vrf: string }
  strategies: Record<string, StrategyResult>
  honestSlashes: number
  delivered: number
  latencyBlocks: { p50: number; p95: number; max: number }
  latencies: number[]
  throughputPerHour: number
  validatedShare: number
  chainWork: { blocks: number; txs: number; failedTxs: number; txsPerTask: number; gasPerTask: number; stateKeys: number }
  outcomes: Record<string, number>
  failures: Record<string, number>
  /** The plain Sybil's T1 attacks with the closed form beside the simulated mean (BERYL per attacked T1). */
  closedForm?: { tasks: number; simulated: number; expected: number; perTask: Array<{ sim: number; e: number }> }
  simulatedSeconds: number
  wallMs: number
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!
}

/**
 * E = (1−r)k + r(gk − (1−q)s), q = 1 − C(h,2)/C(n−1,2) (modules/vss/sampling.ts's model, computed here independently
 * in floating point). g is what a captured sampled task pays the ring in fees: q when the group shares one fee
 * (split_group_fee, Crynux's rule), q + 2(d−1)/(n−1) when every matching member is paid its own fee (T1 plus each seat
 * the ring holds; docs/decisions/0025).
 */
export function closedForm(fee: number, rate: number, n: number, d: number, stake: number, seatsPaid = false): number {
  const h = n - d
  const q = n < 3 ? 1 : d <= 0 ? 0 : 1 - (h * (h - 1)) / ((n - 1) * (n - 2))
  const g = seatsPaid && n >= 3 && d >= 1 ? q + (2 * (d - 1)) / (n - 1) : q
  return (1 - rate) * fee + rate * (g * fee - (1 - q) * stake)
}

export function summarize(cfg: SimConfig, w: World, sim: SimContext, wallMs: number): RunResult {
  const m = sim.measures
  const strategies: Record<string, StrategyResult> = {}
  for (const [name, t] of m.tallies) {
    let holdings = 0n
    for (const id of m.members.get(name) ?? []) holdings += w.read.balance(id.address) + BigInt(w.read.node(id.address)?.stake ?? '0')
    const profit = holdings - t.funded - t.computeCost
    const tasks = t.tasksRun + (t.tasksRun === 0 ? t.tasksCreated : 0)
    strategies[name] = {
      identities: t.identities,
      capital: beryl(t.funded),
      profit: beryl(profit),
      tasks,
      profitPerTask: tasks ? beryl(profit) / tasks : 0,
      profitPerCapital: t.funded ? Number(profit) / Number(t.funded) : 0,
      income: beryl(t.income),
      slashed: beryl(t.slashed),
      slashes: t.slashes,
      kickedOut: t.kickedOut,
      txs: t.txs,
      computeCost: beryl(t.computeCost),
      attempts: Object.fromEntries(Object.entries(t.attempts).sort()),
    }
  }
  const honest = strategies.honest
  if (cfg.adversary !== 'none' && honest) {
    const adv = strategies[cfg.adversary]
    // The same capital doing honest work would have earned capital × the honest return on capital.
    if (adv && adv.tasks) adv.excessPerTask = (adv.profit - adv.capital * honest.profitPerCapital) / adv.tasks
  }
  const lat = m.latencies.map(Number)
  const simulatedSeconds = Number(w.now - sim.w.chain.opts.genesisTime)
  const totals = w.chain.totals
  let closed: RunResult['closedForm']
  const recs = m.attacks.filter((r) => r.strategy === 'sybil')
  const seatsPaid = !w.read.vssParams().splitGroupFee
  if (recs.length) {
    const groupOf = (t1: string) => {
      const t = w.read.task(new Uint8Array(Buffer.from(t1, 'hex')))
      return t ? sim.protocol.visibleGroup(t) : [t1]
    }
    const bal = m.attackBalance('sybil', groupOf)
    const perTask = recs.map((r) => ({
      sim: beryl(groupOf(r.t1).reduce((a, c) => a + m.attackNet(c), 0n)),
      e: closedForm(beryl(r.fee), Number(r.rate) / 1e18, Number(r.eligible), Number(r.attackerEligible), beryl(r.stake), seatsPaid),
    }))
    closed = {
      tasks: bal.tasks,
      simulated: beryl(bal.net) / bal.tasks,
      expected: perTask.reduce((a, x) => a + x.e, 0) / perTask.length,
      perTask,
    }
  }
  return {
    config: {
      preset: cfg.preset,
      seed: cfg.seed,
      nodes: cfg.nodes,
      tasks: cfg.tasks,
      adversary: cfg.adversary,
      share: cfg.share,
      fees: cfg.fees,
      vrf: cfg.vrf,
    },
    strategies: Object.fromEntries(Object.entries(strategies).sort(([a], [b]) => (a < b ? -1 : 1))),
    honestSlashes: m.honestSlashes,
    delivered: m.delivered,
    latencyBlocks: { p50: pct(lat, 0.5), p95: pct(lat, 0.95), max: pct(lat, 1) },
    latencies: lat,
    throughputPerHour: simulatedSeconds ? (m.delivered * 3600) / simulatedSeconds : 0,
    validatedShare: m.honestTasks ? m.validatedByCreator / m.honestTasks : 0,
    chainWork: {
      blocks: totals.blocks,
      txs: totals.txs,
      failedTxs: totals.failedTxs,
      txsPerTask: m.honestTasks ? totals.txs / m.honestTasks : 0,
      gasPerTask: m.honestTasks ? Number(totals.gas) / m.honestTasks : 0,
      stateKeys: w.chain.store.size,
    },
    outcomes: Object.fromEntries(Object.entries(m.outcomes).sort()),
    failures: Object.fromEntries(Object.entries(m.failures).sort()),
    closedForm: closed,
    simulatedSeconds,
    wallMs,
  }
}
