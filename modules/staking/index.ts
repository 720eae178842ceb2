import type { Module } from '../../chain/module.ts'
import { MODULE } from './errors.ts'
import { exportStakingGenesis, initStakingGenesis } from './genesis.ts'
import type { StakingKeeper } from './keeper.ts'
import { stakingMsgs } from './msgs.ts'
import { stakingQueries } from './queries.ts'

export { StakingKeeper, COMMUNITY_POOL } from './keeper.ts'
export type { NodeHook } from './keeper.ts'
export { StakingErrors } from './errors.ts'
export { DEFAULT_PARAMS as DEFAULT_STAKING_PARAMS } from './params.ts'
export { Node, NodeRecord, NodeStatus } from '../../proto/gen/beryl/staking/v1/types.ts'

/** staking: GPU nodes (registration, stake, availability, leaving), slashing and kick-out, operators' records. */
export function stakingModule(keeper: StakingKeeper): Module {
  return {
    name: MODULE,
    msgs: stakingMsgs(keeper),
    queries: stakingQueries(keeper),
    initGenesis: (ctx, state) => initStakingGenesis(keeper, ctx, state),
    exportGenesis: (ctx) => exportStakingGenesis(keeper, ctx),
    endBlock: (ctx) => keeper.returnUnbonded(ctx),
  }
}
