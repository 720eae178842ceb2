import type { Context, QueryContext } from '../../chain/context.ts'
import { genesisObject, mergeParams, toGenesisJSON } from '../../chain/genesis.ts'
import { GenesisState } from '../../proto/gen/beryl/task/v1/genesis.ts'
import { Params } from '../../proto/gen/beryl/task/v1/types.ts'
import { MODULE } from './errors.ts'
import type { TaskKeeper } from './keeper.ts'
import { DEFAULT_PARAMS, validateParams } from './params.ts'

/**
 * `app_state.task` (beryl.task.v1.GenesisState): params, every task and the next sequence. The
 * queue, deadlines and indexes are rebuilt from the tasks; the dispatch index from the nodes
 * (staking's genesis runs first and its hooks fill it).
 */
export async function initTaskGenesis(keeper: TaskKeeper, ctx: Context, state: unknown): Promise<void> {
  const raw = genesisObject(GenesisState, state, MODULE)
  const params = mergeParams(Params, DEFAULT_PARAMS, raw.params as Record<string, unknown> | undefined, MODULE)
  validateParams(params)
  keeper.setParams(ctx, params)
  const g = GenesisState.fromJSON({ ...raw, params: undefined })
  let next = g.nextSequence
  for (const t of g.tasks) {
    await keeper.importTask(ctx, t)
    if (t.sequence >= next) next = t.sequence + 1n
  }
  if (next > 0n) keeper.setNextSequence(ctx, next)
}

export async function exportTaskGenesis(keeper: TaskKeeper, ctx: QueryContext): Promise<unknown> {
  return toGenesisJSON(GenesisState, { params: keeper.params(ctx), ...(await keeper.exportState(ctx)) })
}
