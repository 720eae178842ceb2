import type { Identity } from './chain.ts'
import type { Measures } from './measures.ts'
import type { Protocol } from './protocol.ts'
import type { Rng } from './rng.ts'
import type { World } from './world.ts'

/** A GPU class of the registry as the twin models it: its speed and what an hour of it costs. */
export interface GpuModel {
  name: string
  vramGb: number
  /** Execution time relative to an RTX 4090 (1.0). */
  slowdown: number
  /** Share of honest nodes of this class. */
  share: number
}

/** Everything an agent is given: the world, the protocol adapter, the measures, the run's knobs. */
export interface SimContext {
  w: World
  protocol: Protocol
  measures: Measures
  rng: Rng
  /** The outside world's purse: funds new identities (MsgSend), as an exchange or an operator's wallet would. */
  treasury: Identity
  modelId: string
  taskVersion: string
  gpus: GpuModel[]
  minStake: bigint
  hammingThreshold: number
  /** Share of a task's fee an honest node spends on running it (power, hardware): the fee is not all profit. */
  computeCostShare: number
  /** Honest per-image pHash noise, bits. */
  jitterBits: number
  /** Execution time of a task on an RTX 4090, as a share of the chain's estimate. */
  execShare: number
  /** Honest node failure probability per task (crash: the task times out). */
  crashRate: number
}

/** Funds an identity from the treasury with a real MsgSend (the account is created by receiving it). */
export function fund(sim: SimContext, to: Identity, amount: bigint, then?: () => void): void {
  sim.w.submit(
    sim.treasury,
    [
      {
        typeUrl: '/cosmos.bank.v1beta1.MsgSend',
        value: { fromAddress: sim.treasury.address, toAddress: to.address, amount: [{ denom: 'uberyl', amount: amount.toString() }] },
      },
    ],
    (r) => {
      if (r.code !== 0) throw new Error(`funding ${to.label} failed: ${r.log}`)
      then?.()
    },
  )
}
