import type { Context, QueryContext } from '../../chain/context.ts'
import { genesisObject, toGenesisJSON } from '../../chain/genesis.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { GenesisState } from '../../proto/gen/beryl/qos/v1/genesis.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { MODULE } from './errors.ts'
import type { QosKeeper } from './keeper.ts'

/** `app_state.qos`: every node's QoS record (beryl.qos.v1.GenesisState); nodes must be in the staking genesis. */
export function initQosGenesis(keeper: QosKeeper, ctx: Context, state: unknown): void {
  const g = GenesisState.fromJSON(genesisObject(GenesisState, state, MODULE))
  for (const q of g.nodes) {
    checkAddress(q.node, BECH32_PREFIX)
    keeper.importNodeQos(ctx, q)
  }
}

export async function exportQosGenesis(keeper: QosKeeper, ctx: QueryContext): Promise<unknown> {
  return toGenesisJSON(GenesisState, { nodes: await keeper.exportState(ctx) })
}
