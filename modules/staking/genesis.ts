import type { Context, QueryContext } from '../../chain/context.ts'
import { genesisObject, mergeParams, toGenesisJSON } from '../../chain/genesis.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { GenesisState } from '../../proto/gen/beryl/staking/v1/genesis.ts'
import { Params } from '../../proto/gen/beryl/staking/v1/types.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { MODULE } from './errors.ts'
import type { StakingKeeper } from './keeper.ts'
import { DEFAULT_PARAMS, validateParams } from './params.ts'

/** `app_state.staking`: params, nodes and operators' records (beryl.staking.v1.GenesisState). */
export function initStakingGenesis(keeper: StakingKeeper, ctx: Context, state: unknown): void {
  const raw = genesisObject(GenesisState, state, MODULE)
  const params = mergeParams(Params, DEFAULT_PARAMS, raw.params as Record<string, unknown> | undefined, MODULE)
  validateParams(params)
  keeper.setParams(ctx, params)
  const g = GenesisState.fromJSON({ ...raw, params: undefined })
  for (const r of g.records) {
    checkAddress(r.address, BECH32_PREFIX)
    keeper.importRecord(ctx, r)
  }
  for (const n of g.nodes) {
    checkAddress(n.address, BECH32_PREFIX)
    keeper.importNode(ctx, n)
  }
}

export async function exportStakingGenesis(keeper: StakingKeeper, ctx: QueryContext): Promise<unknown> {
  return toGenesisJSON(GenesisState, { params: keeper.params(ctx), ...(await keeper.exportState(ctx)) })
}
