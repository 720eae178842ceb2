import type { Context, QueryContext } from '../../chain/context.ts'
import { genesisObject, mergeParams, toGenesisJSON } from '../../chain/genesis.ts'
import { GenesisState } from '../../proto/gen/beryl/vss/v1/genesis.ts'
import { Params } from '../../proto/gen/beryl/vss/v1/types.ts'
import { genesisSeed } from './keeper.ts'
import { MODULE } from './errors.ts'
import type { VssKeeper } from './keeper.ts'
import { DEFAULT_PARAMS, validateParams } from './params.ts'

/** `app_state.vss`: the sampling parameters (beryl.vss.v1.GenesisState). */
export function initVssGenesis(keeper: VssKeeper, ctx: Context, state: unknown): void {
  const raw = genesisObject(GenesisState, state, MODULE)
  const params = mergeParams(Params, DEFAULT_PARAMS, raw.params as Record<string, unknown> | undefined, MODULE)
  validateParams(params)
  keeper.setParams(ctx, params)
  // The seed chain starts at the height before the first block: from the export's latest seed, or the chain id.
  const g = GenesisState.fromJSON({ ...raw, params: undefined })
  if (g.seed && g.seed.seed.length !== 32) throw new Error('vss genesis: seed.seed must be 32 bytes')
  keeper.setSeed(ctx, { height: ctx.block.height - 1n, seed: g.seed?.seed ?? genesisSeed(ctx.block.chainId), contributors: 0 })
}

export function exportVssGenesis(keeper: VssKeeper, ctx: QueryContext): unknown {
  return toGenesisJSON(GenesisState, { params: keeper.params(ctx), seed: keeper.latestSeed(ctx) })
}
