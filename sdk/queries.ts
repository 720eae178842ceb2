import type { ProtobufRpcClient } from '@cosmjs/stargate'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../proto/gen/beryl/qos/v1/query.ts'
import {
  QueryNodeRecordRequest,
  QueryNodeRecordResponse,
  QueryNodeRequest,
  QueryNodeResponse,
  QueryNodesRequest,
  QueryNodesResponse,
  QueryParamsRequest as StakingParamsRequest,
  QueryParamsResponse as StakingParamsResponse,
} from '../proto/gen/beryl/staking/v1/query.ts'
import {
  QueryParamsRequest as TaskParamsRequest,
  QueryParamsResponse as TaskParamsResponse,
  QueryQueueRequest,
  QueryQueueResponse,
  QueryTaskRequest,
  QueryTaskResponse,
  QueryTasksRequest,
  QueryTasksResponse,
} from '../proto/gen/beryl/task/v1/query.ts'
import {
  QueryParamsRequest as VssParamsRequest,
  QueryParamsResponse as VssParamsResponse,
  QuerySamplingRateRequest,
  QuerySamplingRateResponse,
} from '../proto/gen/beryl/vss/v1/query.ts'

interface Codec<T> {
  encode(m: T): { finish(): Uint8Array }
  decode(b: Uint8Array): T
}

/** Resolves to undefined when the chain answers "not found" (a missing node, task or record). */
export async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p
  } catch (err) {
    if (/not found|NotFound/i.test((err as Error).message)) return undefined
    throw err
  }
}

/** Typed queries of every Beryl module over a cosmjs protobuf RPC client (ABCI query through CometBFT). */
export function berylQueries(rpc: ProtobufRpcClient) {
  const q = async <Req, Res>(service: string, method: string, enc: Codec<Req>, dec: Codec<Res>, req: Req): Promise<Res> =>
    dec.decode(await rpc.request(service, method, enc.encode(req).finish()))
  return {
    staking: {
      node: (address: string) => q('beryl.staking.v1.Query', 'Node', QueryNodeRequest, QueryNodeResponse, { address }).then((r) => r.node),
      nodes: (req: Partial<QueryNodesRequest> = {}) =>
        q('beryl.staking.v1.Query', 'Nodes', QueryNodesRequest, QueryNodesResponse, QueryNodesRequest.fromPartial(req)),
      record: (address: string) =>
        q('beryl.staking.v1.Query', 'NodeRecord', QueryNodeRecordRequest, QueryNodeRecordResponse, { address }).then((r) => r.record),
      params: () => q('beryl.staking.v1.Query', 'Params', StakingParamsRequest, StakingParamsResponse, {}).then((r) => r.params!),
    },
    task: {
      task: (commitment: Uint8Array | string) =>
        q('beryl.task.v1.Query', 'Task', QueryTaskRequest, QueryTaskResponse, {
          taskIdCommitment: typeof commitment === 'string' ? Buffer.from(commitment, 'hex') : commitment,
        }).then((r) => r.task!),
      tasks: (req: Partial<QueryTasksRequest>) => q('beryl.task.v1.Query', 'Tasks', QueryTasksRequest, QueryTasksResponse, QueryTasksRequest.fromPartial(req)),
      queue: (limit = 50) => q('beryl.task.v1.Query', 'Queue', QueryQueueRequest, QueryQueueResponse, { limit }).then((r) => r.tasks),
      params: () => q('beryl.task.v1.Query', 'Params', TaskParamsRequest, TaskParamsResponse, {}).then((r) => r.params!),
    },
    qos: {
      node: (node: string) => q('beryl.qos.v1.Query', 'NodeQos', QueryNodeQosRequest, QueryNodeQosResponse, { node }),
    },
    vss: {
      samplingRate: (fee: bigint | string, modelId = '') =>
        q(
          'beryl.vss.v1.Query',
          'SamplingRate',
          QuerySamplingRateRequest,
          QuerySamplingRateResponse,
          QuerySamplingRateRequest.fromPartial({ fee: fee.toString(), modelId }),
        ),
      params: () => q('beryl.vss.v1.Query', 'Params', VssParamsRequest, VssParamsResponse, {}).then((r) => r.params!),
    },
  }
}

export type BerylQueries = ReturnType<typeof berylQueries>
