/**
 * Prometheus metrics, optional and injected: the runtime talks to the small `NodeMetrics` interface,
 * and `createPromMetrics` builds one on prom-client if that package is installed (undefined if not,
 * and the node runs without metrics). Served as text at `/metrics` on the API port.
 */

export interface ApiMetrics {
  /** Starts timing an API request; call the result with the gRPC status code when it ends. */
  apiRequest(api: 'grpc' | 'rest', path: string): (grpcCode: number) => void
}

export interface NodeMetrics extends ApiMetrics {
  /** One ABCI call's duration. */
  abciLatency(method: 'check_tx' | 'finalize_block' | 'commit' | 'query', seconds: number): void
  /** A CheckTx that refused a tx (by codespace and code). */
  mempoolRejected(codespace: string, code: number): void
  /** A finalized block: its height, time (unix seconds), number of txs and gas used. */
  block(height: bigint, timeSeconds: number, txs: number, gasUsed: bigint): void
  /** A gauge computed when scraped (e.g. tasks by status, from the modules' queries). */
  gauge(name: string, help: string, labelNames: string[], collect: () => Promise<Array<{ labels?: Record<string, string>; value: number }>>): void
  /** A counter others increment (e.g. the gateway's uploads). */
  counter(name: string, help: string, labelNames?: string[]): (labels?: Record<string, string>, by?: number) => void
  /** A histogram others observe (e.g. the worker's inference time). */
  histogram(name: string, help: string, labelNames: string[], buckets: number[]): (labels: Record<string, string>, value: number) => void
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; text: string }>
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** A metrics registry on prom-client, or undefined when prom-client is not installed. */
export async function createPromMetrics(prefix = 'beryl_'): Promise<NodeMetrics | undefined> {
  let prom: typeof import('prom-client')
  try {
    prom = await import('prom-client')
  } catch {
    return undefined
  }
  const registry = new prom.Registry()
  prom.collectDefaultMetrics({ register: registry, prefix: `${prefix}process_` })
  const abci = new prom.Histogram({
    name: `${prefix}abci_duration_seconds`,
    help: 'ABCI call duration (CheckTx, FinalizeBlock, Commit, Query)',
    labelNames: ['method'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const rejected = new prom.Counter({
    name: `${prefix}mempool_rejected_txs_total`,
    help: 'Transactions refused by CheckTx, by codespace and code',
    labelNames: ['codespace', 'code'],
    registers: [registry],
  })
  const height = new prom.Gauge({ name: `${prefix}block_height`, help: 'Height of the last finalized block', registers: [registry] })
  const time = new prom.Gauge({ name: `${prefix}block_time_seconds`, help: 'Time of the last finalized block (unix seconds)', registers: [registry] })
  const blockTxs = new prom.Histogram({
    name: `${prefix}block_txs`,
    help: 'Transactions per block',
    buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [registry],
  })
  const blockGas = new prom.Histogram({
    name: `${prefix}block_gas_used`,
    help: 'Gas used per block',
    buckets: [0, 1e5, 1e6, 5e6, 1e7, 5e7, 1e8, 1e9],
    registers: [registry],
  })
  const txsTotal = new prom.Counter({ name: `${prefix}txs_total`, help: 'Transactions in finalized blocks', registers: [registry] })
  const gasTotal = new prom.Counter({ name: `${prefix}gas_used_total`, help: 'Gas used in finalized blocks', registers: [registry] })
  const api = new prom.Histogram({
    name: `${prefix}api_request_duration_seconds`,
    help: 'gRPC and REST query duration, by API and gRPC status code',
    labelNames: ['api', 'code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const names = new Set<string>()
  const unique = (name: string) => {
    if (names.has(name)) throw new Error(`metric ${name} registered twice`)
    names.add(name)
    return `${prefix}${name}`
  }
  return {
    apiRequest(kind) {
      const end = api.startTimer({ api: kind })
      return (code) => {
        end({ code: String(code) })
      }
    },
    abciLatency(method, seconds) {
      abci.observe({ method }, seconds)
    },
    mempoolRejected(codespace, code) {
      rejected.inc({ codespace, code: String(code) })
    },
    block(h, t, txs, gas) {
      height.set(Number(h))
      time.set(t)
      blockTxs.observe(txs)
      blockGas.observe(Number(gas))
      txsTotal.inc(txs)
      gasTotal.inc(Number(gas))
    },
    gauge(name, help, labelNames, collect) {
      new prom.Gauge({
        name: unique(name),
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset()
          for (const { labels, value } of await collect().catch(() => [])) labels ? this.set(labels, value) : this.set(value)
        },
      })
    },
    counter(name, help, labelNames = []) {
      const c = new prom.Counter({ name: unique(name), help, labelNames, registers: [registry] })
      return (labels, by = 1) => {
        labels ? c.inc(labels, by) : c.inc(by)
      }
    },
    histogram(name, help, labelNames, buckets) {
      const h = new prom.Histogram({ name: unique(name), help, labelNames, buckets, registers: [registry] })
      return (labels, value) => {
        h.observe(labels, value)
      }
    },
    async render() {
      return { contentType: registry.contentType, text: await registry.metrics() }
    },
  }
}
