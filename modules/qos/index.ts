import type { Context } from '../../chain/context.ts'
import { decodeQueryRequest, type Module } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../proto/gen/beryl/qos/v1/query.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { qosValue } from './math.ts'
import { MODULE, QosKeeper } from './keeper.ts'

export { QosKeeper } from './keeper.ts'
export type { QosHook } from './keeper.ts'

export function qosModule(keeper: QosKeeper): Module {
  return {
    name: MODULE,
    queries: [{
      path: '/beryl.qos.v1.Query/NodeQos',
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodeQosRequest.decode, data)
        checkAddress(req.node, BECH32_PREFIX)
        const q = keeper.get(ctx, req.node)
        // Queries have no block time: health is reported as of the last block's time.
        const now = ctx.blockTime
        const health = keeper.health(q, now)
        const ql = keeper.qLong(q)
        return QueryNodeQosResponse.encode({ qos: q, qLong: ql.toString(), health: health.toString(), qosValue: qosValue(ql, health).toString() }).finish()
      },
    }],
    endBlock(ctx: Context) { return keeper.reinclude(ctx) },
  }
}
