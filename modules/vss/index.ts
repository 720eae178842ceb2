import type { Module } from '../../chain/module.ts'
import type { StakingKeeper } from '../staking/index.ts'
import { MODULE } from './errors.ts'
import { exportVssGenesis, initVssGenesis } from './genesis.ts'
import type { VssKeeper } from './keeper.ts'
import { vssMsgs } from './msgs.ts'
import { vssQueries } from './queries.ts'

export { VssKeeper } from './keeper.ts'
export type { EligibleCounter, VrfKeyLookup } from './keeper.ts'
export { nextSeed, vrfInput, genesisSeed } from './keeper.ts'
export { DEFAULT_PARAMS as DEFAULT_VSS_PARAMS } from './params.ts'
export { ecvrfProve, ecvrfVerify, ecvrfPublicKey, ecvrfProofToHash } from './ecvrf.ts'
export { SamplingError, VALIDATION_GROUP_SIZE, isSelectedForValidation } from './sampling.ts'

/** vss: the fee-adaptive sampling rate, the chain seed (validators' VRFs in vote extensions), ECVRF proofs of selection. */
export function vssModule(keeper: VssKeeper, staking: StakingKeeper): Module {
  return {
    name: MODULE,
    msgs: vssMsgs,
    queries: vssQueries(keeper, staking),
    initGenesis: (ctx, state) => initVssGenesis(keeper, ctx, state),
    exportGenesis: (ctx) => exportVssGenesis(keeper, ctx),
    beginBlock: (ctx, consensus) => keeper.beginBlock(ctx, consensus),
    voteExtensions: {
      extend: (ctx, height) => keeper.extendVote(ctx, height),
      verify: (ctx, height, validator, extension) => keeper.verifyVoteExtension(ctx, height, validator, extension),
      consensusPubkey: (ctx, validator) => keeper.consensusKeyOf(ctx, validator),
    },
  }
}
