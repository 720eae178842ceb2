import type { RestRoute } from './routes.ts'
import type { ApiSchema } from './schema.ts'

const INTEGER64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])
const INTEGER32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32'])

/**
 * The OpenAPI 3.0 document of the REST server, generated from its route table and the protobuf
 * schema, so it lists exactly the paths that answer. Message schemas follow the proto3 JSON mapping
 * the server emits: 64-bit integers and bytes are strings, enums their names.
 */
export function openApiDocument(
  routes: RestRoute[],
  schema: ApiSchema,
  info: { title: string; version: string; description?: string },
): Record<string, unknown> {
  const components: Record<string, unknown> = {
    Status: {
      type: 'object',
      description: 'A gRPC status, as grpc-gateway reports errors',
      properties: {
        code: { type: 'integer', description: 'gRPC status code' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object' } },
      },
      required: ['code', 'message', 'details'],
    },
  }
  const ref = (typeName: string): Record<string, unknown> => {
    const key = typeName.replace(/^\./, '')
    if (!(key in components)) {
      components[key] = {} // placeholder first: types may refer to themselves
      components[key] = messageSchema(schema.root.lookupType(key), ref)
    }
    return { $ref: `#/components/schemas/${key}` }
  }
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const type = schema.root.lookupType(r.rpc.requestType)
    const parameters: unknown[] = r.pathParams.map((p) => ({ name: p, in: 'path', required: true, schema: fieldSchema(type.fields[p], ref) }))
    if (r.method === 'GET') {
      for (const [name, s] of queryParameters(type, '', r.pathParams, 0)) parameters.push({ name, in: 'query', required: false, schema: s })
    }
    parameters.push({
      name: 'x-cosmos-block-height',
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description: 'Block height to query at (0 or absent: the latest; this node serves only the latest)',
    })
    const op: Record<string, unknown> = {
      operationId: `${r.rpc.service}.${r.rpc.name}`.replace(/\./g, '_'),
      summary: `${r.rpc.service}/${r.rpc.name}`,
      tags: [r.rpc.service],
      parameters,
      responses: {
        200: { description: 'A successful response', content: { 'application/json': { schema: ref(r.rpc.responseType) } } },
        default: { description: 'An error (gRPC status code, message)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } } },
      },
    }
    if (r.method === 'POST') op.requestBody = { required: true, content: { 'application/json': { schema: ref(r.rpc.requestType) } } }
    ;(paths[r.template] ??= {})[r.method.toLowerCase()] = op
  }
  return {
    openapi: '3.0.3',
    info: { title: info.title, version: info.version, description: info.description ?? '' },
    paths,
    components: { schemas: components },
  }
}

/** Query parameters of a GET: scalar fields, and one level of nested message fields as `a.b`. */
function queryParameters(type: any, prefix: string, skip: string[], depth: number): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = []
  for (const f of type.fieldsArray) {
    const name = prefix + f.name
    if (skip.includes(name)) continue
    f.resolve()
    if (f.resolvedType?.fields) {
      if (depth < 1 && !f.repeated) out.push(...queryParameters(f.resolvedType, `${name}.`, skip, depth + 1))
      continue
    }
    const s = fieldSchema(f, () => ({}))
    out.push([name, f.repeated ? { type: 'array', items: s } : s])
  }
  return out
}

function messageSchema(type: any, ref: (t: string) => Record<string, unknown>): Record<string, unknown> {
  if (type.fullName === '.google.protobuf.Any') {
    return {
      type: 'object',
      description: 'Any: "@type" names the message, its fields follow',
      properties: { '@type': { type: 'string' } },
      additionalProperties: true,
    }
  }
  if (type.fullName === '.google.protobuf.Timestamp') return { type: 'string', format: 'date-time' }
  if (type.fullName === '.google.protobuf.Duration') return { type: 'string', example: '1.5s' }
  const properties: Record<string, unknown> = {}
  for (const f of type.fieldsArray) {
    f.resolve()
    const s = fieldSchema(f, ref)
    properties[f.name] = f.repeated ? { type: 'array', items: s } : f.map ? { type: 'object', additionalProperties: s } : s
  }
  return { type: 'object', properties }
}

function fieldSchema(f: any, ref: (t: string) => Record<string, unknown>): Record<string, unknown> {
  if (!f) return { type: 'string' }
  if (f.resolvedType?.values) return { type: 'string', enum: Object.keys(f.resolvedType.values) }
  if (f.resolvedType) return ref(f.resolvedType.fullName)
  if (INTEGER64.has(f.type)) return { type: 'string', format: f.type.startsWith('u') || f.type.startsWith('fixed') ? 'uint64' : 'int64' }
  if (INTEGER32.has(f.type))
    return {
      type: 'integer',
      format: f.type.includes('u') || f.type.startsWith('fixed') ? 'int64' : 'int32',
      ...(f.type.includes('u') || f.type.startsWith('fixed') ? { minimum: 0 } : {}),
    }
  switch (f.type) {
    case 'bool':
      return { type: 'boolean' }
    case 'bytes':
      return { type: 'string', format: 'byte' }
    case 'double':
    case 'float':
      return { type: 'number' }
    default:
      return { type: 'string' }
  }
}
