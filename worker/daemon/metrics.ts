import http from 'node:http'
import { createPromMetrics } from '../../chain/api/metrics.ts'
import type { NodeRecord } from '../../proto/gen/beryl/staking/v1/types.ts'

/** What the daemon reports; every call is cheap and never throws. */
export interface WorkerMetrics {
  /** One assignment computed (or refused): its model, kind, duration and outcome. */
  taskRun(model: string, kind: 'image' | 'text', seconds: number, outcome: 'ok' | 'invalid_args' | 'failed'): void
  /** A score or error report handed over, and whether the chain took it. */
  submitted(what: 'score' | 'error_report', accepted: boolean): void
  /** An output upload to the gateway, and whether it was accepted. */
  uploaded(accepted: boolean): void
  close(): Promise<void>
}

const INFERENCE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320]
const UBERYL = 1_000_000

/**
 * The worker's Prometheus endpoint (`[metrics] address` in worker.toml): counters the daemon moves,
 * and its node's earnings and slashes read from the chain when scraped. Undefined without prom-client.
 */
export async function startWorkerMetrics(address: string, record: () => Promise<NodeRecord | undefined>): Promise<WorkerMetrics | undefined> {
  const m = await createPromMetrics('beryl_worker_')
  if (!m) return undefined
  const runs = m.counter('tasks_run_total', 'Assignments run, by model, kind and outcome', ['model', 'kind', 'outcome'])
  const inference = m.histogram('inference_seconds', 'Time to compute one assignment, by model', ['model', 'kind'], INFERENCE_BUCKETS)
  const submissions = m.counter('score_submissions_total', 'Scores and error reports sent, by what and whether the chain took them', ['what', 'accepted'])
  const uploads = m.counter('uploads_total', 'Output uploads to the gateway, by whether they were accepted', ['accepted'])
  let last: NodeRecord | undefined
  const fresh = async () => {
    last = (await record().catch(() => undefined)) ?? last
    return last
  }
  m.gauge('earned_beryl', 'BERYL earned by this node (net of the protocol share), from the chain', [], async () => {
    const r = await fresh()
    return r ? [{ value: Number(BigInt(r.earned || '0')) / UBERYL }] : []
  })
  m.gauge('tasks_paid', 'Task payments received by this node, from the chain', [], async () => (last ? [{ value: Number(last.tasksPaid) }] : []))
  m.gauge('slashes', 'Times this node was slashed, from the chain', [], async () => (last ? [{ value: last.slashCount }] : []))
  m.gauge('slashed_beryl', 'BERYL taken from this node by slashes, from the chain', [], async () =>
    last ? [{ value: Number(BigInt(last.slashedAmount || '0')) / UBERYL }] : [],
  )

  const i = address.lastIndexOf(':')
  const host = address.slice(0, i).replace(/^\[|\]$/g, ''),
    port = Number(address.slice(i + 1))
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end('not found\n')
      return
    }
    m.render().then(
      ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  }).catch((err) => {
    throw new Error(`cannot serve worker metrics on ${address}: ${(err as Error).message} (change [metrics] address in worker.toml, or set it to "")`)
  })
  return {
    taskRun: (model, kind, seconds, outcome) => {
      runs({ model, kind, outcome })
      if (outcome === 'ok') inference({ model, kind }, seconds)
    },
    submitted: (what, accepted) => submissions({ what, accepted: String(accepted) }),
    uploaded: (accepted) => uploads({ accepted: String(accepted) }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
