import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { SdkErrors } from '../errors.ts'
import { GrpcCode, apiError, httpStatus, parseHeight, type QueryBackend } from './backend.ts'
import { HEIGHT_HEADER } from './grpc.ts'
import type { NodeMetrics } from './metrics.ts'
import { openApiDocument } from './openapi.ts'
import { requestFromParams, restRoutes, type RestRoute } from './routes.ts'
import type { ApiSchema } from './schema.ts'

/** Limits of the REST server. */
export const REST_LIMITS = {
  bodyBytes: 1024 * 1024,
  urlChars: 4096,
  pathParamChars: 200,
}

export interface RestServer {
  port: number
  routes: RestRoute[]
  openapi: Record<string, unknown>
  close(): Promise<void>
}

const EXPLORER_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'explorer')
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/**
 * The REST server of `[api] address`: the gRPC-gateway paths of every served method (proto3 JSON),
 * the OpenAPI document of exactly those paths at `/openapi.json` (Swagger UI at `/swagger`), Prometheus `/metrics`, and the web
 * explorer (static files that read this same API) at `/`. Errors have grpc-gateway's shape
 * `{"code": <gRPC status>, "message": …, "details": []}` with its HTTP status; the chain's codespace and
 * code are in the `x-cosmos-codespace` and `x-cosmos-code` headers.
 */
export async function startRestServer(opts: {
  backend: QueryBackend
  schema: ApiSchema
  host: string
  port: number
  cors?: boolean
  metrics?: NodeMetrics
  info?: { title: string; version: string }
  log?: (m: string) => void
}): Promise<RestServer> {
  const app = Fastify({ bodyLimit: REST_LIMITS.bodyBytes, routerOptions: { maxParamLength: REST_LIMITS.pathParamChars }, logger: false })
  if (opts.cors) await app.register(cors, { origin: '*', methods: ['GET', 'POST', 'OPTIONS'] })
  const routes = restRoutes(opts.schema, opts.backend.paths())
  const openapi = openApiDocument(routes, opts.schema, {
    title: opts.info?.title ?? 'Beryl REST API',
    version: opts.info?.version ?? '0',
    description:
      'The gRPC-gateway paths of the Cosmos services this node serves, and Beryl\'s own queries. Errors: {"code": gRPC status, "message", "details"}.',
  })
  // Swagger UI at /swagger, showing the document generated from the route table (not fastify's own).
  await app.register(swagger, { openapi: { info: { title: 'Beryl REST API', version: '0' } }, transformObject: () => openapi as never })
  await app.register(swaggerUi, { routePrefix: '/swagger' })

  const sendError = (reply: FastifyReply, grpcCode: number, message: string, extra?: { codespace: string; code: number }, status?: number) => {
    if (extra) reply.header('x-cosmos-codespace', extra.codespace).header('x-cosmos-code', String(extra.code))
    return reply
      .code(status ?? httpStatus(grpcCode))
      .type('application/json')
      .send({ code: grpcCode, message, details: [] })
  }

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length > REST_LIMITS.urlChars)
      return sendError(reply, GrpcCode.INVALID_ARGUMENT, `request URI longer than ${REST_LIMITS.urlChars} characters`, undefined, 414)
  })
  app.setNotFoundHandler((_req, reply) => sendError(reply, GrpcCode.NOT_FOUND, 'Not Found'))
  app.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, _req, reply) => {
    const status = err.statusCode ?? 500
    const grpcCode =
      status === 413 ? GrpcCode.RESOURCE_EXHAUSTED : status === 415 ? GrpcCode.INVALID_ARGUMENT : status < 500 ? GrpcCode.INVALID_ARGUMENT : GrpcCode.INTERNAL
    return sendError(reply, grpcCode, status < 500 ? err.message : 'internal error', undefined, status)
  })

  for (const r of routes) {
    const url = r.template.replace(/\{([^}]+)\}/g, ':$1')
    app.route({
      method: r.method,
      url,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const end = opts.metrics?.apiRequest('rest', r.rpc.path)
        try {
          const params = { ...(req.query as Record<string, string | string[]>) }
          const heightParam = req.headers[HEIGHT_HEADER]
          const height = parseHeight(Array.isArray(heightParam) ? heightParam[0] : heightParam)
          let obj: Record<string, unknown>
          if (r.method === 'POST') {
            if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))
              throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = the body must be a JSON object')
            obj = req.body as Record<string, unknown>
          } else {
            obj = requestFromParams(opts.schema, r.rpc.requestType, params)
          }
          const pathValues = req.params as Record<string, string>
          Object.assign(obj, requestFromParams(opts.schema, r.rpc.requestType, Object.fromEntries(r.pathParams.map((p) => [p, pathValues[p] ?? '']))))
          let bytes: Uint8Array
          try {
            bytes = r.rpc.encodeRequest(obj)
          } catch (err) {
            throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = ${(err as Error).message}`)
          }
          const res = await opts.backend.query(r.rpc.path, bytes, height)
          end?.(0)
          return reply.header(HEIGHT_HEADER, String(res.height)).type('application/json').send(r.rpc.responseJson(res.value))
        } catch (err) {
          const e = apiError(err)
          end?.(e.grpcCode)
          return sendError(reply, e.grpcCode, e.message, e)
        }
      },
    })
  }

  app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(openapi))
  app.get('/metrics', async (_req, reply) => {
    if (!opts.metrics) return sendError(reply, GrpcCode.UNIMPLEMENTED, 'metrics are off (prom-client is not installed)')
    const { contentType, text } = await opts.metrics.render()
    return reply.type(contentType).send(text)
  })

  // The explorer: a few static files, read once.
  const files = new Map<string, { type: string; body: Buffer }>()
  if (fs.existsSync(EXPLORER_DIR)) {
    for (const f of fs.readdirSync(EXPLORER_DIR)) {
      const type = STATIC_TYPES[path.extname(f)]
      if (type) files.set(f, { type, body: fs.readFileSync(path.join(EXPLORER_DIR, f)) })
    }
  }
  const serve = (name: string, reply: FastifyReply) => {
    const f = files.get(name)
    if (!f) return sendError(reply, GrpcCode.NOT_FOUND, 'Not Found')
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body)
  }
  app.get('/', async (_req, reply) => serve('index.html', reply))
  app.get('/explorer/:file', async (req, reply) => serve((req.params as { file: string }).file, reply))

  await app.listen({ host: opts.host, port: opts.port })
  const addr = app.server.address()
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    routes,
    openapi,
    close: () => app.close(),
  }
}
