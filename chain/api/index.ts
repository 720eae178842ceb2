import type { AbciApplication } from '../abci/types.ts'
import type { BerylApp } from '../app.ts'
import type { QueryRoute } from '../module.ts'
import { queryBackend, type QueryBackend } from './backend.ts'
import { startGrpcServer, type GrpcServer } from './grpc.ts'
import type { NodeMetrics } from './metrics.ts'
import { startRestServer, type RestServer } from './rest.ts'
import { loadApiSchema } from './schema.ts'

export { createPromMetrics, type NodeMetrics, type ApiMetrics } from './metrics.ts'
export { queryBackend, type QueryBackend } from './backend.ts'
export { cometServiceRoutes } from './cometservice.ts'

export interface ApiOptions {
  /** `host:port` of the gRPC server; "" turns it off. */
  grpcAddress: string
  /** `host:port` of the REST server (+ explorer, /metrics); "" turns it off. */
  restAddress: string
  /** Allow any origin (`[api] enabled-unsafe-cors`). */
  cors?: boolean
  /** The chain's own .proto files (relative to `chainProtoDir`), for reflection, JSON and OpenAPI. */
  chainProtoDir: string
  chainFiles: string[]
  /** Node routes served beside the application's queries (the CometBFT-backed services). */
  nodeRoutes: QueryRoute[]
  metrics?: NodeMetrics
  version: string
}

export interface RunningApi {
  grpc?: GrpcServer
  rest?: RestServer
  backend: QueryBackend
  stop(): Promise<void>
}

/** Starts the gRPC and REST servers over one backend (the app's queries plus the node routes). */
export async function startApi(app: BerylApp, o: ApiOptions, log: (m: string) => void): Promise<RunningApi> {
  const backend = queryBackend(app, o.nodeRoutes)
  const schema = loadApiSchema({ chainProtoDir: o.chainProtoDir, chainFiles: o.chainFiles })
  let grpc: GrpcServer | undefined
  let rest: RestServer | undefined
  try {
    if (o.grpcAddress) {
      const { host, port } = hostPort(o.grpcAddress)
      grpc = await startGrpcServer({ backend, schema, host, port, metrics: o.metrics, log }).catch((err) => {
        throw new Error(
          `cannot start the gRPC server on ${o.grpcAddress}: ${(err as Error).message} (change [grpc] address in app.toml, or set it to "" to turn it off)`,
        )
      })
      log(`beryld: gRPC listening on ${host}:${grpc.port} (reflection on)`)
    }
    if (o.restAddress) {
      const { host, port } = hostPort(o.restAddress)
      rest = await startRestServer({
        backend,
        schema,
        host,
        port,
        cors: o.cors,
        metrics: o.metrics,
        info: { title: 'Beryl REST API', version: o.version },
        log,
      }).catch((err) => {
        throw new Error(
          `cannot start the REST server on ${o.restAddress}: ${(err as Error).message} (change [api] address in app.toml, or set it to "" to turn it off)`,
        )
      })
      log(`beryld: REST, explorer and /metrics on http://${host}:${rest.port}/ (${rest.routes.length} routes)`)
    }
  } catch (err) {
    await grpc?.close()
    await rest?.close()
    throw err
  }
  return {
    grpc,
    rest,
    backend,
    async stop() {
      await grpc?.close()
      await rest?.close()
    },
  }
}

function hostPort(addr: string): { host: string; port: number } {
  const m = /^(?:tcp:\/\/|http:\/\/)?([^/]+):(\d+)$/.exec(addr)
  if (!m) throw new Error(`invalid address ${JSON.stringify(addr)}; expected host:port`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }
}

/**
 * The application as the ABCI server sees it, with each call timed and each block counted. The
 * metrics only observe: answers are passed through unchanged.
 */
export function instrumentApp(app: AbciApplication, metrics: NodeMetrics): AbciApplication {
  const timed = async <T>(method: 'check_tx' | 'finalize_block' | 'commit' | 'query', fn: () => T | Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint()
    try {
      return await fn()
    } finally {
      metrics.abciLatency(method, Number(process.hrtime.bigint() - t0) / 1e9)
    }
  }
  return {
    info: (r) => app.info(r),
    initChain: (r) => app.initChain(r),
    query: (r) => timed('query', () => app.query(r)),
    async checkTx(r) {
      const res = await timed('check_tx', () => app.checkTx(r))
      if (res.code) metrics.mempoolRejected(res.codespace ?? '', res.code)
      return res
    },
    prepareProposal: (r) => app.prepareProposal(r),
    processProposal: (r) => app.processProposal(r),
    async finalizeBlock(r) {
      const res = await timed('finalize_block', () => app.finalizeBlock(r))
      const gas = (res.txResults ?? []).reduce((a, t) => a + (t.gasUsed ?? 0n), 0n)
      metrics.block(r.height, Number(r.time?.seconds ?? 0n) + (r.time?.nanos ?? 0) / 1e9, r.txs.length, gas)
      return res
    },
    commit: () => timed('commit', () => app.commit()),
    extendVote: app.extendVote && ((r) => app.extendVote!(r)),
    verifyVoteExtension: app.verifyVoteExtension && ((r) => app.verifyVoteExtension!(r)),
  }
}
