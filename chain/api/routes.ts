import { SdkErrors } from '../errors.ts'
import type { ApiMethod, ApiSchema } from './schema.ts'

/** One REST path of the API server and the gRPC method it calls. */
export interface RestRoute {
  method: 'GET' | 'POST'
  /** OpenAPI-style template: `/cosmos/bank/v1beta1/balances/{address}`. */
  template: string
  pathParams: string[]
  rpc: ApiMethod
}

/** Page sizes the REST server accepts (`pagination.limit`, `limit`). */
export const MAX_REST_PAGE_LIMIT = 1000

/**
 * The REST route table: every served method with a `google.api.http` annotation at its gRPC-gateway
 * path (the Cosmos services), and every other served query method at
 * `/<package as path>/<method in snake_case>` with its request fields as query parameters
 * (Beryl's: `/beryl/task/v1/tasks?creator=…`), so a new module's queries get REST paths with no change.
 */
export function restRoutes(schema: ApiSchema, served: string[]): RestRoute[] {
  const out: RestRoute[] = []
  for (const path of served) {
    const rpc = schema.methods.get(path)
    if (!rpc) continue
    if (rpc.httpGet) out.push(route('GET', rpc.httpGet, rpc))
    else if (rpc.httpPost) out.push(route('POST', rpc.httpPost, rpc))
    else if (rpc.service.endsWith('.Query')) {
      const pkg = rpc.service.slice(0, -'.Query'.length).replace(/\./g, '/')
      out.push(route('GET', `/${pkg}/${snake(rpc.name)}`, rpc))
    }
  }
  return out.sort((a, b) => a.template.localeCompare(b.template) || a.method.localeCompare(b.method))
}

function route(method: 'GET' | 'POST', template: string, rpc: ApiMethod): RestRoute {
  const pathParams = [...template.matchAll(/\{([^}=]+)(?:=[^}]*)?\}/g)].map((m) => m[1]!)
  return { method, template: template.replace(/\{([^}=]+)=[^}]*\}/g, '{$1}'), pathParams, rpc }
}

export const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

/** Scalar protobuf types as protobufjs names them. */
const INTEGER = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])

/**
 * Builds a request object from path and query parameters, as grpc-gateway does: `a.b=v` sets a
 * nested field, a repeated field takes the parameter several times, enums by name or number, bytes
 * as base64 (or hex, which Beryl's ids are printed in). Every value is checked against its field's
 * type: a bad one is an invalid-request error (HTTP 400), never a silently zero field.
 */
export function requestFromParams(schema: ApiSchema, typeName: string, params: Record<string, string | string[]>): Record<string, unknown> {
  const obj: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(params)) {
    const parts = key.split('.')
    let type = schema.root.lookupType(typeName)
    let target = obj
    for (let i = 0; i < parts.length; i++) {
      const field = type.fields[parts[i]!]
      if (!field) throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = unknown query parameter ${JSON.stringify(key.slice(0, 80))}`)
      field.resolve()
      if (i < parts.length - 1) {
        if (!field.resolvedType?.fields || field.repeated)
          throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = ${JSON.stringify(key.slice(0, 80))} is not a message field`)
        target = (target[field.name] ??= {}) as Record<string, unknown>
        type = field.resolvedType
        continue
      }
      const values = Array.isArray(raw) ? raw : [raw]
      if (!field.repeated && values.length > 1) throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = ${key} given more than once`)
      const converted = values.map((v) => scalar(field, v, key))
      target[field.name] = field.repeated ? converted : converted[0]
    }
  }
  const limit = (obj.pagination as { limit?: string } | undefined)?.limit ?? obj.limit
  if (limit !== undefined && Number(limit) > MAX_REST_PAGE_LIMIT) {
    throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = page limit ${limit} exceeds ${MAX_REST_PAGE_LIMIT}`)
  }
  return obj
}

function scalar(field: any, v: string, key: string): unknown {
  const bad = (what: string) => SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = ${key}: ${what}, got ${JSON.stringify(v.slice(0, 80))}`)
  if (field.resolvedType && field.resolvedType.values) {
    // an enum
    const values = field.resolvedType.values as Record<string, number>
    if (v in values) return v
    if (/^\d+$/.test(v) && Object.values(values).includes(Number(v))) return Number(v)
    throw bad(`expected one of ${Object.keys(values).join(', ')}`)
  }
  if (field.resolvedType) throw bad('a message field cannot be given as a value')
  if (INTEGER.has(field.type)) {
    if (!/^-?\d{1,20}$/.test(v)) throw bad('expected an integer')
    return v
  }
  switch (field.type) {
    case 'bool':
      if (v !== 'true' && v !== 'false') throw bad('expected true or false')
      return v === 'true'
    case 'bytes':
      if (v.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(v) && v.length >= 40) return Buffer.from(v, 'hex').toString('base64')
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw bad('expected base64 or hex')
      return Buffer.from(v, 'base64url').toString('base64')
    case 'double':
    case 'float':
      if (Number.isNaN(Number(v))) throw bad('expected a number')
      return Number(v)
    default:
      return v
  }
}
