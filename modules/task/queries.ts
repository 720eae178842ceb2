import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import {
  QueryParamsResponse,
  QueryQueueRequest,
  QueryQueueResponse,
  QueryTaskRequest,
  QueryTaskResponse,
  QueryTasksRequest,
  QueryTasksResponse,
} from '../../proto/gen/beryl/task/v1/query.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import type { TaskKeeper } from './keeper.ts'

/** beryl.task.v1.Query. */
export function taskQueries(keeper: TaskKeeper): QueryRoute[] {
  const q = (n: string) => `/beryl.task.v1.Query/${n}`
  return [
    {
      path: q('Task'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryTaskRequest.decode, data)
        const task = keeper.getTask(ctx, req.taskIdCommitment)
        if (!task) throw SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = task ${Buffer.from(req.taskIdCommitment).toString('hex')} not found`)
        return QueryTaskResponse.encode({ task }).finish()
      },
    },
    {
      path: q('Tasks'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryTasksRequest.decode, data)
        if (!req.creator && !req.node && !req.hasStatus) throw SdkErrors.InvalidRequest.with('give a creator, a node or a status')
        if (req.creator) checkAddress(req.creator, BECH32_PREFIX)
        if (req.node) checkAddress(req.node, BECH32_PREFIX)
        const limit = req.limit === 0 ? 100 : req.limit
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('limit above 1000')
        const r = await keeper.listTasks(ctx, {
          creator: req.creator || undefined,
          node: req.node || undefined,
          status: req.hasStatus ? req.status : undefined,
          key: req.key,
          limit,
        })
        return QueryTasksResponse.encode(r).finish()
      },
    },
    {
      path: q('Queue'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryQueueRequest.decode, data)
        const limit = req.limit === 0 ? 100 : Math.min(req.limit, 1000)
        return QueryQueueResponse.encode({ tasks: await keeper.queue(ctx, limit) }).finish()
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
