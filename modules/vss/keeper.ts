import { createHash } from 'node:crypto'
import type { Context, QueryContext } from '../../chain/context.ts'
import { u64be } from '../../chain/store/encoding.ts'
import type { KVStore } from '../../chain/store/types.ts'
import { Params } from '../../proto/gen/beryl/vss/v1/types.ts'
import type { StakingKeeper } from '../staking/index.ts'
import { ecvrfVerify } from './ecvrf.ts'
import { MODULE } from './errors.ts'
import { PARAMS_KEY } from './keys.ts'
import { DEFAULT_PARAMS } from './params.ts'
import { isSelectedForValidation, samplingRate, type SamplingRateResult } from './sampling.ts'

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** How many serving nodes hold a model (the task module's count, wired in modules/index.ts). */
export type EligibleCounter = (ctx: Context | QueryContext, modelId: string) => Promise<bigint>

/**
 * Verifiable secret sampling: the sampling rate a task gets from its fee and the network, the
 * chain's randomness, and the check of a creator's ECVRF proof of selection.
 */
export class VssKeeper {
  /** Set by modules/index.ts; the SamplingRate query uses it to size the network for a model. */
  countEligible: EligibleCounter = async () => 0n

  constructor(private readonly staking: StakingKeeper) {}

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    return v ? Params.decode(v) : DEFAULT_PARAMS
  }
  setParams(ctx: Context, p: Params): void {
    this.kv(ctx).set(PARAMS_KEY, Params.encode(p).finish())
  }

  /** The rate for a task of this fee among `eligibleNodes` nodes; throws SamplingError when none is safe. */
  rate(ctx: Context | QueryContext, fee: bigint, eligibleNodes: bigint): SamplingRateResult {
    const p = this.params(ctx)
    return samplingRate({
      fee,
      minStake: BigInt(this.staking.params(ctx).minStake),
      eligibleNodes,
      dishonestShare: BigInt(p.assumedDishonestShare),
      minRate: BigInt(p.minSamplingRate),
    })
  }

  /**
   * The chain's randomness for this block: H(previous app hash ‖ block hash ‖ height). Reading the
   * block hash marks the block's execution as hash-dependent (docs/decisions/0003), so callers read
   * it only when they need it. Everything random on chain goes through here.
   */
  randomness(ctx: Context): Uint8Array {
    return sha256(ctx.block.lastAppHash, ctx.block.hash, u64be(ctx.block.height))
  }

  /** A task's sampling seed from this block's randomness. */
  samplingSeed(randomness: Uint8Array, taskIdCommitment: Uint8Array): Uint8Array {
    return sha256(randomness, taskIdCommitment)
  }

  /**
   * Whether the creator's ECVRF proof over the task's seed selects it at `rate`; undefined when
   * the proof does not verify with the task's VRF key.
   */
  selected(vrfPublicKey: Uint8Array, proof: Uint8Array, seed: Uint8Array, rate: bigint): boolean | undefined {
    const beta = ecvrfVerify(vrfPublicKey, proof, seed)
    return beta ? isSelectedForValidation(beta, rate) : undefined
  }
}
