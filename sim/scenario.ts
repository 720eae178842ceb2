import { createHash } from 'node:crypto'
import { moduleAddress } from '../modules/auth/index.ts'
import { DEFAULT_GPU_CLASSES } from '../modules/staking/params.ts'
import type { BerylModules } from '../modules/index.ts'
import { SimChain } from './chain.ts'
import type { GpuModel, SimContext } from './context.ts'
import { fund } from './context.ts'
import { patchVrf, vrf, type VrfMode } from './crypto.ts'
import { Measures } from './measures.ts'
import { Protocol } from './protocol.ts'
import { Rng } from './rng.ts'
import { World } from './world.ts'
import { Application, type FeeWeight } from './agents/app.ts'
import { HonestNode } from './agents/honest.ts'
import { ADVERSARIES, type AdversaryName } from './agents/index.ts'
import { summarize, type RunResult } from './results.ts'

export const UBERYL = 1_000_000n

/** Every knob of one run. Fees are in BERYL; chain parameters are genesis params, `module.param`. */
export interface SimConfig {
  preset: 'beryl' | 'crynux'
  seed: string
  /** All GPU nodes, honest and adversarial. */
  nodes: number
  /** Tasks the honest applications create. */
  tasks: number
  apps: number
  adversary: AdversaryName | 'none'
  /** The adversary's share of the nodes (0..1). */
  share: number
  /** Fee mix of honest tasks (BERYL, weight); `fee` alone sets one fee for every task. */
  fees: Array<{ fee: number; weight: number }>
  /** Target share of honest GPU time busy with tasks; sets the arrival rate. */
  utilisation: number
  textShare: number
  validateShare: number
  burstShare: number
  /** An application cancels a task still queued after this many seconds (0: never). */
  cancelAfter: number
  blockSeconds: number
  /** Seconds after the last arrival the run waits for open tasks to end. */
  drainSeconds: number
  computeCostShare: number
  jitterBits: number
  crashRate: number
  execShare: number
  /** Fee of every tx, uberyl. */
  txFee: number
  vrf: VrfMode
  appHash: boolean
  record: boolean
  /** Genesis parameter overrides: "task.min_eligible_nodes" → "5". */
  params: Record<string, string>
  /** Crynux's mechanism: one sampling rate for every task instead of the fee-adaptive one (fraction; 0 = off). */
  fixedSamplingRate: number
}

export const DEFAULTS: SimConfig = {
  preset: 'beryl',
  seed: '1',
  nodes: 100,
  tasks: 2000,
  apps: 4,
  adversary: 'none',
  share: 0.1,
  fees: [
    { fee: 1, weight: 50 },
    { fee: 5, weight: 30 },
    { fee: 50, weight: 15 },
    { fee: 400, weight: 5 },
  ],
  utilisation: 0.5,
  textShare: 0.2,
  validateShare: 0.95,
  burstShare: 0.05,
  cancelAfter: 3600,
  blockSeconds: 2,
  drainSeconds: 7200,
  computeCostShare: 0.5,
  jitterBits: 11,
  crashRate: 0.002,
  execShare: 0.4,
  txFee: 5000,
  vrf: 'real',
  appHash: false,
  record: false,
  params: {},
  fixedSamplingRate: 0,
}

/**
 * The presets. `beryl`: the chain's defaults. `crynux`: as close to Crynux's relay as the modules
 * allow: a fixed 1% sampling rate (not fee-adaptive), an unbounded queue; the validation group is
 * formed as the modules form it (commit, then the chain's seats: the modules have no other way), and paid as the
 * relay pays it (one fee split 10:5:2, the seats' fees refunded); the same 400-token stake, 6 h queue, 600 s validation and upload
 * timeouts, execution timeout 2× the estimate in 60..7200 s, 24-bit pHash threshold, QoS and
 * slashing (which Beryl took from Crynux unchanged).
 */
export const PRESETS: Record<SimConfig['preset'], Partial<SimConfig>> = {
  beryl: {},
  crynux: {
    fixedSamplingRate: 0.01,
    // The relay's settlement: the representative's one fee split 10:5:2 among the matching members.
    params: { 'task.max_queued_tasks': '1000000', 'vss.split_group_fee': 'true' },
  },
}

/** The registry's classes as the twin runs them: speed relative to an RTX 4090 and share of honest nodes. */
export const GPU_MIX: Array<{ name: string; slowdown: number; share: number }> = [
  { name: 'NVIDIA GeForce RTX 4090', slowdown: 1.0, share: 0.3 },
  { name: 'NVIDIA GeForce RTX 3090', slowdown: 1.3, share: 0.2 },
  { name: 'NVIDIA GeForce RTX 4070', slowdown: 1.6, share: 0.15 },
  { name: 'NVIDIA GeForce RTX 3060', slowdown: 2.2, share: 0.15 },
  { name: 'NVIDIA L4', slowdown: 1.8, share: 0.1 },
  { name: 'NVIDIA A100-SXM4-80GB', slowdown: 0.8, share: 0.06 },
  { name: 'NVIDIA H100 80GB HBM3', slowdown: 0.6, share: 0.04 },
]

export function gpuModels(): GpuModel[] {
  return GPU_MIX.map((g) => ({ ...g, vramGb: DEFAULT_GPU_CLASSES.find((c) => c.name === g.name)!.vramGb }))
}

/** Defaults, then the preset, then the caller's settings (params merge key by key). */
export function resolveConfig(over: Partial<SimConfig>): SimConfig {
  const preset = PRESETS[over.preset ?? DEFAULTS.preset]
  return { ...DEFAULTS, ...preset, ...over, params: { ...DEFAULTS.params, ...preset.params, ...over.params } }
}

/** Genesis app_state params from "module.param" overrides. */
function paramState(params: Record<string, string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const [k, v] of Object.entries(params)) {
    const [mod, name, ...rest] = k.split('.')
    if (!mod || !name || rest.length) throw new Error(`--set ${k}: chain parameters are written module.param (e.g. task.min_eligible_nodes)`)
    ;(out[mod] ??= {})[name] = v
  }
  return out
}

export const MODEL_ID = createHash('sha256').update('beryl-sim-model').digest('hex')
const TASK_VERSION = '1.0.0'

/** Mean execution seconds of an honest task (for the arrival rate): the estimate × execShare × the mix's mean slowdown. */
function meanTaskSeconds(cfg: SimConfig): number {
  const slow = GPU_MIX.reduce((a, g) => a + g.share * g.slowdown, 0)
  return (80 * (1 - cfg.textShare) + 44 * cfg.textShare) * cfg.execShare * slow
}

export interface Progress {
  (done: number, total: number): void
}

/** Builds the world for a config: genesis, the honest network and demand, the adversary. */
export async function build(cfg: SimConfig): Promise<{ w: World; sim: SimContext; apps: Application[] }> {
  const appState: Record<string, unknown> = {}
  const fixed = cfg.fixedSamplingRate
  const patchV = patchVrf(cfg.vrf)
  const patchKeepers = (m: BerylModules) => {
    patchV?.(m)
    if (fixed > 0) {
      // Crynux's rule: one rate for every task, whatever its fee and network.
      const rate = BigInt(Math.round(fixed * 1e6)) * 10n ** 12n
      m.keepers.vss.rate = () => ({ rate }) as ReturnType<typeof m.keepers.vss.rate>
    }
  }
  const chain = new SimChain({
    chainId: 'beryl-sim-1',
    appState,
    genesisTime: 1_700_000_000n,
    seed: cfg.seed,
    txFee: BigInt(cfg.txFee),
    txGas: 50_000_000n,
    appHash: cfg.appHash,
    record: cfg.record,
    patchKeepers,
  })
  const w = new World(chain, cfg.seed, BigInt(cfg.blockSeconds))
  const rng = new Rng(cfg.seed, 'scenario')
  const overrides = paramState(cfg.params)
  const minStake = BigInt(String(overrides.staking?.min_stake ?? 400n * UBERYL))
  const hammingThreshold = Number(overrides.task?.hamming_threshold ?? 24)
  const treasury = w.identity('treasury')
  const attester = w.identity('gateway')
  const protocol = new Protocol(w, vrf(cfg.vrf), attester, cfg.adversary !== 'none')
  const measures = new Measures(w, BigInt(cfg.txFee))
  w.onTx = (s, r) => measures.tx(s, r)
  const gpus = gpuModels()
  const sim: SimContext = {
    w,
    protocol,
    measures,
    rng,
    treasury,
    modelId: MODEL_ID,
    taskVersion: TASK_VERSION,
    gpus,
    minStake,
    hammingThreshold,
    computeCostShare: cfg.computeCostShare,
    jitterBits: cfg.jitterBits,
    execShare: cfg.execShare,
    crashRate: cfg.crashRate,
  }

  // The honest network: classes in the registry's mix, every node funded in genesis.
  const adversaryNodes = cfg.adversary === 'none' ? 0 : Math.max(ADVERSARIES[cfg.adversary].minNodes, Math.round(cfg.share * cfg.nodes))
  const honestCount = Math.max(0, cfg.nodes - adversaryNodes)
  const genesisAccounts: Array<{ address: string; amount: bigint }> = [
    { address: treasury.address, amount: 10n ** 15n },
    { address: attester.address, amount: 1000n * UBERYL },
  ]
  const honest: HonestNode[] = []
  let acc = 0
  for (let i = 0; i < honestCount; i++) {
    // Deterministic class assignment: the i-th node takes the class whose cumulative share covers it.
    const x = (i + 0.5) / honestCount
    acc = 0
    const g = gpus.find((m) => (acc += m.share) >= x) ?? gpus[0]!
    const n = new HonestNode(sim, `honest-${i}`, g)
    genesisAccounts.push({ address: n.genesisIdentity(w).address, amount: minStake + 10_000_000n })
    honest.push(n)
    w.add(n)
  }

  // The honest demand: arrival rate for the target utilisation of the honest GPUs.
  const fees: FeeWeight[] = cfg.fees.map((f) => ({ fee: BigInt(Math.round(f.fee * 1e6)), weight: f.weight }))
  const meanFee = fees.reduce((a, f) => a + Number(f.fee) * f.weight, 0) / fees.reduce((a, f) => a + f.weight, 0)
  const rate = (cfg.utilisation * Math.max(1, honestCount)) / meanTaskSeconds(cfg) / Math.max(1, cfg.apps)
  const apps: Application[] = []
  for (let i = 0; i < cfg.apps; i++) {
    const tasks = Math.floor(cfg.tasks / cfg.apps) + (i < cfg.tasks % cfg.apps ? 1 : 0)
    const maxFee = fees.reduce((a, f) => (f.fee > a ? f.fee : a), 0n)
    const budget = BigInt(Math.ceil(meanFee * tasks * 4)) + maxFee * 9n + 1000n * UBERYL
    const app = new Application(sim, `app-${i}`, {
      rate,
      tasks,
      fees,
      textShare: cfg.textShare,
      validateShare: cfg.validateShare,
      burstShare: cfg.burstShare,
      cancelAfter: cfg.cancelAfter,
    })
    genesisAccounts.push({ address: app.genesisIdentity(w, budget).address, amount: budget })
    apps.push(app)
    w.add(app)
  }

  // The adversary: its nodes and applications, funded from outside when they start.
  if (cfg.adversary !== 'none') ADVERSARIES[cfg.adversary].build(sim, adversaryNodes, cfg)

  const params = paramState(cfg.params)
  appState.auth = { accounts: genesisAccounts.map((a) => ({ address: a.address })) }
  // The gateway attests with the operator key of the one validator, which holds all the bonded power
  // (docs/decisions/0023); its bond sits in the validator module account.
  const bond = { address: moduleAddress('validator'), amount: 1000n * UBERYL }
  appState.bank = {
    balances: [...genesisAccounts, bond].map((a) => ({ address: a.address, coins: [{ denom: 'uberyl', amount: a.amount.toString() }] })),
  }
  for (const [mod, p] of Object.entries(params)) appState[mod] = { params: p }
  // The chain seed starts from the run's seed. The twin has no vote extensions, so its seeds follow the fallback rule
  // (docs/decisions/0022), a function of the previous seed and the height: with one genesis seed for every run, runs of
  // different seeds would share every dispatch and sampling draw.
  appState.vss = {
    ...(appState.vss as object | undefined),
    seed: { height: '0', seed: createHash('sha256').update(`beryl-sim/chain-seed/${cfg.seed}`).digest('base64'), contributors: 0 },
  }
  const consensusPubkey = createHash('sha256').update('beryl-sim/validator').digest('base64')
  appState.validator = {
    ...(appState.validator as object | undefined),
    validators: [{ account: attester.address, consensusPubkey, bonded: bond.amount.toString(), commissionPpm: 0 }],
  }
  await chain.init()
  return { w, sim, apps }
}

/** Runs a config to the end (arrivals done, then open tasks ended or the drain time out). */
export async function run(over: Partial<SimConfig>, progress?: Progress): Promise<RunResult> {
  return (await simulate(over, progress)).result
}

/** The same, keeping the world (tests replay its blocks, read its state). */
export async function simulate(over: Partial<SimConfig>, progress?: Progress): Promise<{ result: RunResult; w: World; sim: SimContext; cfg: SimConfig }> {
  const cfg = resolveConfig(over)
  const started = performance.now()
  const { w, sim, apps } = await build(cfg)
  await w.start()
  let lastArrival: bigint | undefined
  for (;;) {
    await w.step()
    const done = apps.reduce((a, x) => a + (x.done ? 1 : 0), 0) === apps.length
    if (progress && w.chain.height % 50n === 0n) progress(sim.measures.honestTasks, cfg.tasks)
    if (!done) continue
    lastArrival ??= w.now
    if (sim.measures.openMeasured() === 0 || w.now > lastArrival + BigInt(cfg.drainSeconds)) break
  }
  progress?.(cfg.tasks, cfg.tasks)
  return { result: summarize(cfg, w, sim, performance.now() - started), w, sim, cfg }
}

export { fund }
