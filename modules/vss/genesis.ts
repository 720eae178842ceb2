import type { Context, QueryContext } from '../../chain/context.ts'
import { genesisObject, mergeParams, toGenesisJSON } from '../../chain/genesis.ts'
import { GenesisState } from '../../proto/gen/beryl/vss/v1/genesis.ts'
import { Params } from '../../proto/gen/beryl/vss/v1/types.ts'
import { MODULE } from './errors.ts'
import type { VssKeeper } from './keeper.ts'
import { DEFAULT_PARAMS, validateParams } from './params.ts'

/** `app_state.vss`: the sampling parameters (beryl.vss.v1.GenesisState). */
export function initVssGenesis(keeper: VssKeeper, ctx: Context, state: unknown): void {
  const raw = genesisObject(GenesisState, state, MODULE)
  const params = mergeParams(Params, DEFAULT_PARAMS, raw.params as Record<string, unknown> | undefined, MODULE)
  validateParams(params)
  keeper.setParams(ctx, params)
}

export function exportVssGenesis(keeper: VssKeeper, ctx: QueryContext): unknown {
  return toGenesisJSON(GenesisState, { params: keeper.params(ctx) })
}
