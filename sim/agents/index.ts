import type { Identity } from '../chain.ts'
import type { GpuModel, SimContext } from '../context.ts'
import { fund } from '../context.ts'
import type { SimConfig } from '../scenario.ts'
import type { Agent } from '../world.ts'
import { Copycat } from './copycat.ts'
import { ErrorAbuser } from './error-abuser.ts'
import { FlooderApp, FlooderNode } from './flooder.ts'
import { LazyNode } from './lazy.ts'
import type { NodeAgent } from './node.ts'
import { SamplingAwareNode } from './sampling-aware.ts'
import { SelfDealerApp, SelfDealerNode } from './self-dealer.ts'
import { SlasherApp, SlasherNode } from './slasher.ts'
import { SpooferApp, SpooferNode } from './spoofer.ts'
import { Ring, SybilNode } from './sybil.ts'
import { TimeoutGamer } from './timeout-gamer.ts'

/** An adversary: how many nodes it needs at least, and how it enters the world. */
export interface AdversaryKind {
  /** One line for --help and the report. */
  summary: string
  /** Which side it attacks from (both are judged against the same capital doing honest work; the charts plot node strategies). */
  side: 'node' | 'app'
  minNodes: number
  build(sim: SimContext, nodes: number, cfg: SimConfig): void
}

/** A node class drawn like the honest mix, so an adversary's nodes look like everyone else's. */
const mixGpu = (sim: SimContext, i: number, n: number): GpuModel => {
  const x = (i + 0.5) / n
  let acc = 0
  return sim.gpus.find((g) => (acc += g.share) >= x) ?? sim.gpus[0]!
}
const gpu = (sim: SimContext, name: string) =>
  sim.gpus.find((g) => g.name === name) ?? { name, vramGb: name.includes('3080') ? 10 : 24, slowdown: 1.4, share: 0 }

function nodes<T extends NodeAgent>(sim: SimContext, n: number, make: (i: number) => T): T[] {
  const out: T[] = []
  for (let i = 0; i < n; i++) {
    const a = make(i)
    sim.w.add(a)
    out.push(a)
  }
  return out
}

/** An adversary's application account, funded from outside with `budget`. */
function app<T extends Agent & { id: Identity }>(sim: SimContext, a: T, label: string, budget: bigint): T {
  a.id = sim.w.identity(label)
  sim.w.own(a.id.address, a)
  sim.measures.enrol(a.strategy, a.id, budget)
  fund(sim, a.id, budget)
  sim.w.add(a)
  return a
}

const B = 1_000_000n
const feeOf = (cfg: SimConfig) => BigInt(Math.round(Math.max(...cfg.fees.map((f) => f.fee)) * 1e6))

export const ADVERSARIES = {
  lazy: {
    summary: 'fakes every output at once',
    side: 'node',
    minNodes: 1,
    build: (sim, n) => void nodes(sim, n, (i) => new LazyNode(sim, `lazy-${i}`, mixGpu(sim, i, n))),
  },
  'sampling-aware': {
    summary: 'fakes only when public state shows no validation group for its task',
    side: 'node',
    minNodes: 1,
    build: (sim, n) => void nodes(sim, n, (i) => new SamplingAwareNode(sim, `aware-${i}`, mixGpu(sim, i, n))),
  },
  sybil: {
    summary: 'a ring whose nodes fake T1 and copy the ring’s fake on validation seats',
    side: 'node',
    minNodes: 2,
    build: (sim, n) => {
      const ring = new Ring(`ring-${sim.w.seed}`)
      nodes(sim, n, (i) => new SybilNode(sim, `sybil-${i}`, mixGpu(sim, i, n), ring))
    },
  },
  'timeout-gamer': {
    summary: 'fakes T1 and lets its own validation seats time out',
    side: 'node',
    minNodes: 2,
    build: (sim, n) => {
      const ring = new Ring(`gamer-${sim.w.seed}`)
      nodes(sim, n, (i) => new TimeoutGamer(sim, `gamer-${i}`, mixGpu(sim, i, n), ring))
    },
  },
  copycat: {
    summary: 'copies another member’s public score on validation seats',
    side: 'node',
    minNodes: 1,
    build: (sim, n) => void nodes(sim, n, (i) => new Copycat(sim, `copycat-${i}`, mixGpu(sim, i, n))),
  },
  'error-abuser': {
    summary: 'answers every task with an error report',
    side: 'node',
    minNodes: 1,
    build: (sim, n) => void nodes(sim, n, (i) => new ErrorAbuser(sim, `abuser-${i}`, mixGpu(sim, i, n))),
  },
  spoofer: {
    summary: 'small GPUs registered as a rare big class; fakes that class’s tasks and creates its own',
    side: 'node',
    minNodes: 3,
    build: (sim, n, cfg) => {
      const claimed = gpu(sim, 'NVIDIA H100 80GB HBM3')
      nodes(sim, n, (i) => new SpooferNode(sim, `spoofer-${i}`, gpu(sim, 'NVIDIA GeForce RTX 3060'), claimed))
      app(sim, new SpooferApp(sim, 'spoofer-app', claimed, Math.max(10, Math.round(cfg.tasks / 50)), feeOf(cfg)), 'spoofer-app', feeOf(cfg) * 100n + 1000n * B)
    },
  },
  slasher: {
    summary: 'a creator with two colluding nodes choosing a group that slashes an honest node (seed 003)',
    side: 'app',
    minNodes: 2,
    build: (sim, n, cfg) => {
      const cls = gpu(sim, 'NVIDIA L4')
      const colluders = nodes(sim, n, (i) => new SlasherNode(sim, `slasher-${i}`, cls, 'collude'))
      const fee = feeOf(cfg)
      app(sim, new SlasherApp(sim, 'slasher-app', 'collude', colluders, cls, fee, 6), 'slasher-app', fee * 200n + 1000n * B)
    },
  },
  flooder: {
    summary: 'fills the queue with high-fee tasks for a class it then pauses',
    side: 'app',
    minNodes: 10,
    build: (sim, n, cfg) => {
      const cls = gpu(sim, 'NVIDIA GeForce RTX 3080')
      const ns = nodes(sim, n, (i) => new FlooderNode(sim, `flooder-${i}`, cls))
      const fee = feeOf(cfg) * 2n
      const count = 300
      app(sim, new FlooderApp(sim, 'flooder-app', ns, cls, count, fee), 'flooder-app', fee * BigInt(count) + 1000n * B)
    },
  },
  'self-dealer': {
    summary: 'pays its own nodes for tasks they fake, never validating',
    side: 'node',
    minNodes: 1,
    build: (sim, n, cfg) => {
      nodes(sim, n, (i) => new SelfDealerNode(sim, `dealer-${i}`, mixGpu(sim, i, n), 'selfdeal'))
      const count = Math.max(20, Math.round(cfg.tasks / 10))
      const fee = feeOf(cfg)
      app(sim, new SelfDealerApp(sim, 'dealer-app', 'selfdeal', 0.05, count, fee), 'dealer-app', fee * BigInt(count) + 1000n * B)
    },
  },
} satisfies Record<string, AdversaryKind>

export type AdversaryName = keyof typeof ADVERSARIES
export const ADVERSARY_NAMES = Object.keys(ADVERSARIES) as AdversaryName[]
