import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../proto/gen/beryl/qos/v1/query.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import type { QosKeeper } from './keeper.ts'
import { qosValue } from './math.ts'

/** beryl.qos.v1.Query. */
export function qosQueries(keeper: QosKeeper): QueryRoute[] {
  return [
    {
      path: '/beryl.qos.v1.Query/NodeQos',
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodeQosRequest.decode, data)
        checkAddress(req.node, BECH32_PREFIX)
        const q = keeper.get(ctx, req.node)
        // Queries have no block time: health is reported as of the last block's time.
        const health = keeper.health(q, ctx.blockTime)
        const ql = keeper.qLong(q)
        return QueryNodeQosResponse.encode({ qos: q, qLong: ql.toString(), health: health.toString(), qosValue: qosValue(ql, health).toString() }).finish()
      },
    },
  ]
}
