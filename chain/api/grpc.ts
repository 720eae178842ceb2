import * as grpc from '@grpc/grpc-js'
import { ReflectionService } from '@grpc/reflection'
import { apiError, parseHeight, type QueryBackend } from './backend.ts'
import type { ApiMetrics } from './metrics.ts'
import type { ApiSchema } from './schema.ts'

/** Limits of the gRPC server (bad or greedy clients get a coded error, never the node's memory). */
export const GRPC_LIMITS = {
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  maxSendMessageBytes: 16 * 1024 * 1024,
  maxConcurrentStreams: 100,
}

export const HEIGHT_HEADER = 'x-cosmos-block-height'

export interface GrpcServer {
  port: number
  close(): Promise<void>
}

const identity = (b: Buffer) => b

/**
 * The gRPC server of `[grpc] address`. It routes generically: every method path the backend knows
 * (the application's query routes, i.e. what ABCI `Query` answers, plus the node's CometBFT-backed
 * services) is registered with pass-through (de)serializers and forwarded with the raw request bytes,
 * so a new module's queries are served with no change here. Server reflection (v1 and v1alpha)
 * describes the services that have at least one served method, from the schema's descriptors.
 *
 * Heights: the `x-cosmos-block-height` request header selects the height (0 or absent: the latest);
 * the reply carries the height it was answered at in the same header, as Cosmos nodes do.
 */
export async function startGrpcServer(opts: {
  backend: QueryBackend
  schema: ApiSchema
  host: string
  port: number
  metrics?: ApiMetrics
  log?: (m: string) => void
}): Promise<GrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': GRPC_LIMITS.maxReceiveMessageBytes,
    'grpc.max_send_message_length': GRPC_LIMITS.maxSendMessageBytes,
    'grpc.max_concurrent_streams': GRPC_LIMITS.maxConcurrentStreams,
  })
  const paths = opts.backend.paths()
  const byService = new Map<string, string[]>()
  for (const p of paths) {
    const m = /^\/([^/]+)\/([^/]+)$/.exec(p)
    if (!m) continue
    byService.set(m[1]!, [...(byService.get(m[1]!) ?? []), m[2]!])
  }
  for (const [service, methods] of byService) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {}
    const impl: grpc.UntypedServiceImplementation = {}
    for (const method of methods) {
      const path = `/${service}/${method}`
      definition[method] = {
        path,
        requestStream: false,
        responseStream: false,
        originalName: method,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      }
      impl[method] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        void unary(opts.backend, path, call, callback, opts.metrics)
      }
    }
    server.addService(definition as grpc.ServiceDefinition, impl)
  }
  const served = new Set(byService.keys())
  new ReflectionService(opts.schema.packageDefinition, { services: opts.schema.services.filter((s) => served.has(s)) }).addToServer(server)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)))
  })
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, 2000)
        server.tryShutdown(() => {
          clearTimeout(timer)
          resolve()
        })
      }),
  }
}

async function unary(
  backend: QueryBackend,
  path: string,
  call: grpc.ServerUnaryCall<Buffer, Buffer>,
  callback: grpc.sendUnaryData<Buffer>,
  metrics?: ApiMetrics,
) {
  const end = metrics?.apiRequest('grpc', path)
  try {
    const header = call.metadata.get(HEIGHT_HEADER)[0]
    const height = parseHeight(header === undefined ? undefined : String(header))
    const r = await backend.query(path, call.request, height)
    const md = new grpc.Metadata()
    md.set(HEIGHT_HEADER, String(r.height))
    call.sendMetadata(md)
    end?.(0)
    callback(null, Buffer.from(r.value))
  } catch (err) {
    const e = apiError(err)
    const md = new grpc.Metadata()
    md.set('x-cosmos-codespace', e.codespace)
    md.set('x-cosmos-code', String(e.code))
    end?.(e.grpcCode)
    callback({ code: e.grpcCode, details: e.message, metadata: md })
  }
}
