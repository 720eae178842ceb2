import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import {
  QueryNodeRecordRequest,
  QueryNodeRecordResponse,
  QueryNodeRequest,
  QueryNodeResponse,
  QueryNodesRequest,
  QueryNodesResponse,
  QueryParamsResponse,
  QuerySlashesRequest,
  QuerySlashesResponse,
} from '../../proto/gen/beryl/staking/v1/query.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import type { StakingKeeper } from './keeper.ts'

const notFound = (what: string) => SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = ${what} not found`)

/** beryl.staking.v1.Query. */
export function stakingQueries(keeper: StakingKeeper): QueryRoute[] {
  const q = (m: string) => `/beryl.staking.v1.Query/${m}`
  return [
    {
      path: q('Node'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodeRequest.decode, data)
        checkAddress(req.address, BECH32_PREFIX)
        const node = keeper.getNode(ctx, req.address)
        if (!node) throw notFound(`node ${req.address}`)
        return QueryNodeResponse.encode({ node }).finish()
      },
    },
    {
      path: q('Nodes'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodesRequest.decode, data)
        const limit = req.limit === 0 ? 100 : req.limit
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('limit above 1000')
        return QueryNodesResponse.encode(await keeper.pageNodes(ctx, { status: req.status, gpuName: req.gpuName, key: req.key, limit })).finish()
      },
    },
    {
      path: q('NodeRecord'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodeRecordRequest.decode, data)
        checkAddress(req.address, BECH32_PREFIX)
        const record = keeper.getRecord(ctx, req.address)
        if (!record) throw notFound(`node record ${req.address}`)
        return QueryNodeRecordResponse.encode({ record }).finish()
      },
    },
    {
      path: q('Slashes'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QuerySlashesRequest.decode, data)
        if (req.node) checkAddress(req.node, BECH32_PREFIX)
        const limit = req.limit === 0 ? 100 : req.limit
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('limit above 1000')
        return QuerySlashesResponse.encode(await keeper.slashes(ctx, { node: req.node || undefined, key: req.key, limit })).finish()
      },
    },
    {
      path: q('Params'),
      handle(ctx) {
        return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish()
      },
    },
  ]
}
