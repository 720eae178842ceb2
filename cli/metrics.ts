import type { BerylApp } from '../chain/app.ts'
import type { GatewayMetrics } from '../gateway/gateway.ts'
import { createPromMetrics, type NodeMetrics } from '../chain/api/index.ts'
import { QueryQueueRequest, QueryQueueResponse, QueryTasksRequest, QueryTasksResponse } from '../proto/gen/beryl/task/v1/query.ts'
import { TaskStatus, taskStatusToJSON } from '../proto/gen/beryl/task/v1/types.ts'
import { QuerySamplingRateRequest, QuerySamplingRateResponse } from '../proto/gen/beryl/vss/v1/query.ts'

/** Counting stops here (a gauge reads "at least" this many): scrapes stay bounded whatever the state. */
const COUNT_CAP = 1000
/** The fee (uberyl) whose sampling rate is exported: 1 BERYL. */
const REFERENCE_FEE = '1000000'
const FIXED_ONE = 10n ** 18n

/**
 * Beryl's node metrics: the runtime's (blocks, ABCI latency, mempool rejections, API requests) plus
 * gauges read through the chain's own queries when scraped: tasks by status, queue length, the sampling
 * rate of a 1 BERYL task. Undefined when prom-client is not installed.
 */
export async function berylNodeMetrics(getApp: () => BerylApp | undefined): Promise<NodeMetrics | undefined> {
  const metrics = await createPromMetrics()
  if (!metrics) return undefined
  const query = async (path: string, data: Uint8Array) => {
    const app = getApp()
    if (!app || app.latestHeight() === 0n) return undefined
    const r = await app.query({ path, data, height: 0n, prove: false })
    return r.code ? undefined : r.value
  }
  metrics.gauge('tasks', `Tasks on chain by status (counted up to ${COUNT_CAP})`, ['status'], async () => {
    const out: Array<{ labels: Record<string, string>; value: number }> = []
    for (const status of Object.values(TaskStatus).filter((v): v is TaskStatus => typeof v === 'number' && v >= 0)) {
      const v = await query(
        '/beryl.task.v1.Query/Tasks',
        QueryTasksRequest.encode({ creator: '', node: '', hasStatus: true, status, key: new Uint8Array(), limit: COUNT_CAP }).finish(),
      )
      out.push({ labels: { status: taskStatusToJSON(status) }, value: v ? QueryTasksResponse.decode(v).tasks.length : 0 })
    }
    return out
  })
  metrics.gauge('task_queue_length', `Queued tasks waiting for dispatch (counted up to ${COUNT_CAP})`, [], async () => {
    const v = await query('/beryl.task.v1.Query/Queue', QueryQueueRequest.encode({ limit: COUNT_CAP }).finish())
    return v ? [{ value: QueryQueueResponse.decode(v).tasks.length }] : []
  })
  metrics.gauge('sampling_rate', 'Sampling rate the chain gives a 1 BERYL task now (0 to 1)', [], async () => {
    const v = await query('/beryl.vss.v1.Query/SamplingRate', QuerySamplingRateRequest.encode({ fee: REFERENCE_FEE, modelId: '' }).finish())
    if (!v) return []
    const r = QuerySamplingRateResponse.decode(v)
    return r.rate ? [{ value: Number((BigInt(r.rate) * 1_000_000n) / FIXED_ONE) / 1e6 }] : []
  })
  return metrics
}

/** The gateway's counters and its open-sessions gauge, on the node's registry. */
export function gatewayMetrics(metrics: NodeMetrics, sessions: () => number): GatewayMetrics {
  metrics.gauge('gateway_sessions', 'Worker sessions open on this gateway', [], async () => [{ value: sessions() }])
  const opened = metrics.counter('gateway_sessions_opened_total', 'Worker sessions authenticated')
  const uploads = metrics.counter('gateway_uploads_total', 'Outputs accepted (checked against the score) and stored')
  const downloads = metrics.counter('gateway_downloads_total', 'Outputs served to their creators')
  const rejected = metrics.counter('gateway_rejections_total', 'Refused sessions and result requests, by reason', ['reason'])
  return {
    sessionOpened: () => opened(),
    uploaded: () => uploads(),
    downloaded: () => downloads(),
    rejected: (reason) => rejected({ reason }),
  }
}
