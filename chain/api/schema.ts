import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import * as protoLoader from '@grpc/proto-loader'

/**
 * The protobuf schema the gRPC and REST servers speak: the Cosmos SDK's `.proto` files as shipped by
 * the npm package `@protobufs/cosmos` (and its siblings for gogoproto, google, tendermint), plus the
 * chain's own files from `proto/`. One load gives three things: the FileDescriptorProtos server
 * reflection serves, the `google.api.http` paths of the REST gateway, and the proto3 JSON mapping
 * (int64 as strings, bytes as base64, enums by name, Any with "@type", Timestamp as RFC 3339).
 * See docs/decisions/0012-api-schema.md for why this package and what it lacks.
 */

/** The Cosmos files whose services and types Beryl serves or shows (paths as imported by the SDK). */
export const COSMOS_PROTO_FILES = [
  'cosmos/auth/v1beta1/query.proto',
  'cosmos/auth/v1beta1/auth.proto',
  'cosmos/bank/v1beta1/query.proto',
  'cosmos/bank/v1beta1/tx.proto',
  'cosmos/tx/v1beta1/service.proto',
  'cosmos/tx/v1beta1/tx.proto',
  'cosmos/base/tendermint/v1beta1/query.proto',
  // Served only once a module answers them (the validator module will): then their REST paths and reflection appear.
  'cosmos/staking/v1beta1/query.proto',
  'cosmos/distribution/v1beta1/query.proto',
  'cosmos/crypto/secp256k1/keys.proto',
  'cosmos/crypto/ed25519/keys.proto',
  'cosmos/crypto/multisig/keys.proto',
]

export interface ApiMethod {
  /** `/pkg.Service/Method`, the ABCI query path and the gRPC method path. */
  path: string
  service: string
  name: string
  requestType: string
  responseType: string
  /** The `google.api.http` GET template, if the method has one (Cosmos services do). */
  httpGet?: string
  /** The `google.api.http` POST template (body "*"), if any. */
  httpPost?: string
  /** Field names of the request message (for query-string parameters). */
  requestFields: FieldInfo[]
  encodeRequest(obj: Record<string, unknown>): Uint8Array
  /** proto3 JSON of a response. */
  responseJson(bytes: Uint8Array): unknown
}

export interface FieldInfo {
  name: string
  type: string
  repeated: boolean
  message: boolean
}

export interface ApiSchema {
  packageDefinition: protoLoader.PackageDefinition
  methods: Map<string, ApiMethod>
  /** Fully qualified names of the services in the schema. */
  services: string[]
  /** The protobufjs root (message types for JSON conversion and OpenAPI schemas). */
  root: any
}

const loaderOptions: protoLoader.Options = { keepCase: true, longs: String, enums: String, bytes: String, defaults: true, oneofs: false, json: true }

/**
 * The proto3 JSON forms of Timestamp and Duration ("2026-11-30T15:00:00.123Z", "1.5s"), which
 * protobufjs does not apply by itself. Registered on the protobufjs that proto-loader uses, before
 * any type is loaded.
 */
function registerWellKnownWrappers(protobuf: { wrappers: Record<string, { fromObject(o: any): any; toObject(m: any, o?: any): any }> }): void {
  const num = (v: unknown) => Number(typeof v === 'object' && v !== null ? String(v) : (v ?? 0))
  protobuf.wrappers['.google.protobuf.Timestamp'] = {
    fromObject(this: any, o: any) {
      if (typeof o === 'string') {
        const ms = Date.parse(o)
        if (Number.isNaN(ms)) throw new Error(`invalid timestamp ${JSON.stringify(o)}`)
        const frac = /\.(\d+)Z?$/i.exec(o)?.[1] ?? ''
        return this.create({ seconds: Math.floor(ms / 1000), nanos: Number((frac + '000000000').slice(0, 9)) })
      }
      return this.fromObject(o)
    },
    toObject(this: any, m: any, o?: any) {
      if (!o?.json) return this.toObject(m, o)
      const seconds = num(m.seconds)
      const nanos = num(m.nanos)
      const base = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '')
      const frac = nanos ? '.' + String(nanos).padStart(9, '0').replace(/0+$/, '') : ''
      return base + frac + 'Z'
    },
  }
  protobuf.wrappers['.google.protobuf.Duration'] = {
    fromObject(this: any, o: any) {
      if (typeof o === 'string') {
        const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(o)
        if (!m) throw new Error(`invalid duration ${JSON.stringify(o)}`)
        return this.create({ seconds: Number(m[1]), nanos: Number(((m[2] ?? '') + '000000000').slice(0, 9)) })
      }
      return this.fromObject(o)
    },
    toObject(this: any, m: any, o?: any) {
      if (!o?.json) return this.toObject(m, o)
      const nanos = num(m.nanos)
      return `${num(m.seconds)}${nanos ? '.' + String(nanos).padStart(9, '0').replace(/0+$/, '') : ''}s`
    },
  }
}

/**
 * Fields the Cosmos SDK added after the version `@protobufs/cosmos` ships (its files are SDK 0.46's;
 * cosmjs-types, which Beryl's handlers encode with, is SDK 0.53's). Wire facts: name, number, type.
 */
const NEWER_FIELDS: Array<[type: string, name: string, id: number, fieldType: string]> = [
  ['cosmos.tx.v1beta1.GetTxsEventRequest', 'page', 4, 'uint64'],
  ['cosmos.tx.v1beta1.GetTxsEventRequest', 'limit', 5, 'uint64'],
  ['cosmos.tx.v1beta1.GetTxsEventRequest', 'query', 6, 'string'],
  ['cosmos.tx.v1beta1.GetTxsEventResponse', 'total', 4, 'uint64'],
]

/** Fields the SDK renamed since (same number and wire type; JSON uses the current name). */
const RENAMED_FIELDS: Array<[type: string, from: string, to: string]> = [
  ['cosmos.base.tendermint.v1beta1.GetNodeInfoResponse', 'node_info', 'default_node_info'],
]

/** Fields whose type changed since (same number and wire type, bytes → string: JSON shows text, not base64). */
const RETYPED_FIELDS: Array<[type: string, name: string, fieldType: string]> = [
  // CometBFT 0.38 event attributes are strings; the tendermint protos shipped are 0.34's (bytes).
  ['tendermint.abci.EventAttribute', 'key', 'string'],
  ['tendermint.abci.EventAttribute', 'value', 'string'],
]

let cached: { key: string; schema: ApiSchema } | undefined

/**
 * Loads the schema: the Cosmos files above and `chainFiles` (relative to `chainProtoDir`).
 * Cached per process (the load takes about a second).
 */
export function loadApiSchema(opts: { chainProtoDir: string; chainFiles: string[] }): ApiSchema {
  const key = JSON.stringify(opts)
  if (cached?.key === key) return cached.schema
  const protobuf = loaderProtobuf()
  registerWellKnownWrappers(protobuf)
  const cosmosRoot = path.dirname(path.dirname(createRequire(import.meta.url).resolve('@protobufs/cosmos/package.json')))
  const includeDirs = [cosmosRoot, opts.chainProtoDir]
  const root = new protobuf.Root()
  root.resolvePath = (_origin: string, target: string) => {
    if (path.isAbsolute(target)) return target
    for (const dir of includeDirs) {
      const full = path.join(dir, target)
      if (fs.existsSync(full)) return full
    }
    return target
  }
  root.loadSync([...COSMOS_PROTO_FILES, ...opts.chainFiles], { keepCase: true })
  for (const [type, name, id, fieldType] of NEWER_FIELDS) {
    const t = root.lookupType(type)
    if (!t.fields[name]) t.add(new protobuf.Field(name, id, fieldType))
  }
  for (const [type, name, fieldType] of RETYPED_FIELDS) {
    const t = root.lookupType(type)
    const f = t.fields[name]
    if (!f || f.type === fieldType) continue
    t.remove(f)
    t.add(new protobuf.Field(name, f.id, fieldType, f.rule, f.extend, f.options))
  }
  for (const [type, from, to] of RENAMED_FIELDS) {
    const t = root.lookupType(type)
    const f = t.fields[from]
    if (!f) continue
    t.remove(f)
    t.add(new protobuf.Field(to, f.id, f.type, f.rule, f.extend, f.options))
  }
  root.resolveAll()
  const packageDefinition = protoLoader.loadFileDescriptorSetFromBuffer(
    Buffer.from(protobuf.descriptor.FileDescriptorSet.encode(root.toDescriptor('proto3')).finish()),
    loaderOptions,
  )
  // proto-loader re-derives the file descriptors (unresolvable by clients, see fullyQualified): replace them.
  const files = fullyQualified(root, root.toDescriptor('proto3')).file.map((f: unknown) =>
    Buffer.from(protobuf.descriptor.FileDescriptorProto.encode(f).finish()),
  )
  for (const def of Object.values(packageDefinition)) {
    if ('format' in def) (def as { fileDescriptorProtos: Buffer[] }).fileDescriptorProtos = files
    else
      for (const m of Object.values(def as protoLoader.ServiceDefinition)) {
        m.requestType.fileDescriptorProtos = files
        m.responseType.fileDescriptorProtos = files
      }
  }
  const methods = new Map<string, ApiMethod>()
  const services: string[] = []
  for (const [name, def] of Object.entries(packageDefinition)) {
    if ('format' in def) continue // a message or enum
    // tendermint.abci's service is CometBFT's side of ABCI, not something this node serves.
    if (name.startsWith('tendermint.')) continue
    services.push(name)
    const svc = root.lookupService(name)
    for (const [mName, m] of Object.entries(def as protoLoader.ServiceDefinition)) {
      const rpc = svc.methods[mName]!
      const http = rpc.parsedOptions?.find((o: Record<string, any>) => o['(google.api.http)'])?.['(google.api.http)'] as
        { get?: string; post?: string; body?: string } | undefined
      const reqType = rpc.resolvedRequestType!
      methods.set(m.path, {
        path: m.path,
        service: name,
        name: mName,
        requestType: reqType.fullName.slice(1),
        responseType: rpc.resolvedResponseType!.fullName.slice(1),
        httpGet: http?.get,
        httpPost: http?.post,
        requestFields: reqType.fieldsArray.map((f: any) => ({
          name: f.name,
          type: f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type,
          repeated: f.repeated,
          message: f.resolvedType instanceof protobuf.Type,
        })),
        encodeRequest: (obj) => m.requestSerialize(obj),
        responseJson: (bytes) => m.responseDeserialize(Buffer.from(bytes)),
      })
    }
  }
  const schema = { packageDefinition, methods, services: services.sort(), root }
  cached = { key, schema }
  return schema
}

/** The protobufjs that proto-loader uses (its wrappers and descriptor extension are per instance). */
function loaderProtobuf(): any {
  const req = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'))
  const protobuf = req('protobufjs')
  protobuf.descriptor = req('protobufjs/ext/descriptor')
  return protobuf
}

/**
 * protobufjs writes one file per package with relative type names and no dependencies, which
 * reflection clients (grpcurl, Go's protodesc) cannot resolve. This makes every type reference
 * fully qualified, lists each file's dependencies, names files after their package
 * (`cosmos/bank/v1beta1/package.proto`), and drops extension fields (the `google.api.http` option
 * is read from the schema here; clients do not need it).
 */
function fullyQualified(root: any, set: { file: any[] }): { file: any[] } {
  const fileOf = new Map<string, string>()
  const fileName = (pkg: string) => (pkg ? pkg.replace(/\./g, '/') + '/package.proto' : 'root.proto')
  const walkNames = (prefix: string, msgs: any[], enums: any[], file: string) => {
    for (const e of enums ?? []) fileOf.set(`${prefix}.${e.name}`, file)
    for (const m of msgs ?? []) {
      fileOf.set(`${prefix}.${m.name}`, file)
      walkNames(`${prefix}.${m.name}`, m.nestedType, m.enumType, file)
    }
  }
  for (const f of set.file) {
    f.name = fileName(f.package ?? '')
    walkNames(f.package ? `.${f.package}` : '', f.messageType, f.enumType, f.name)
  }
  for (const f of set.file) {
    const deps = new Set<string>()
    const use = (full: string) => {
      const d = fileOf.get(full)
      if (d && d !== f.name) deps.add(d)
    }
    const fixMessages = (prefix: string, msgs: any[]) => {
      for (const m of msgs ?? []) {
        const full = `${prefix}.${m.name}`
        const type = root.lookup(full)
        // Extension fields appear inside the extended message (e.g. gogoproto's in FileOptions).
        m.field = (m.field ?? []).filter((fd: { name: string }) => !fd.name.startsWith('.'))
        for (const fd of m.field) {
          if (!fd.typeName) continue
          const field = type?.fields?.[fd.name]
          field?.resolve()
          const target = field?.resolvedType?.fullName
          if (target) {
            fd.typeName = target
            use(target)
          }
        }
        m.extension = []
        // protobufjs' descriptor extension writes a message's reserved range with its inclusive end, where
        // DescriptorProto.ReservedRange's end is exclusive (`reserved 10, 11;` came out as 10..10, which
        // clients refuse as "invalid range"): one past it is the range the .proto reserves.
        for (const r of m.reservedRange ?? []) r.end = r.end + 1
        fixMessages(full, m.nestedType)
      }
    }
    const prefix = f.package ? `.${f.package}` : ''
    fixMessages(prefix, f.messageType)
    f.extension = []
    for (const svc of f.service ?? []) {
      const service = root.lookupService(`${prefix}.${svc.name}`)
      for (const md of svc.method ?? []) {
        const m = service.methods[md.name]
        md.inputType = m.resolvedRequestType.fullName
        md.outputType = m.resolvedResponseType.fullName
        use(md.inputType)
        use(md.outputType)
      }
    }
    f.dependency = [...deps].sort()
  }
  // descriptor.proto's own types (FileOptions…) are proto2 and only there for the extensions
  // dropped above: keep the well-known types something refers to (Any, Timestamp, Duration).
  const byName = new Map<string, any>()
  const index = (prefix: string, msgs: any[]) => {
    for (const m of msgs ?? []) {
      byName.set(`${prefix}.${m.name}`, m)
      index(`${prefix}.${m.name}`, m.nestedType)
    }
  }
  for (const f of set.file) index(f.package ? `.${f.package}` : '', f.messageType)
  const referenced = new Set<string>()
  const reach = (name: string) => {
    if (referenced.has(name)) return
    referenced.add(name)
    const m = byName.get(name)
    for (const fd of m?.field ?? []) if (fd.typeName) reach(fd.typeName)
    for (const n of m?.nestedType ?? []) reach(`${name}.${n.name}`)
  }
  for (const f of set.file) {
    if (f.package === 'google.protobuf') continue
    const walk = (msgs: any[]) => {
      for (const m of msgs ?? []) {
        for (const fd of m.field ?? []) if (fd.typeName) reach(fd.typeName)
        walk(m.nestedType)
      }
    }
    walk(f.messageType)
    for (const svc of f.service ?? [])
      for (const md of svc.method ?? []) {
        reach(md.inputType)
        reach(md.outputType)
      }
  }
  for (const f of set.file) {
    if (f.package !== 'google.protobuf') continue
    f.messageType = (f.messageType ?? []).filter((m: { name: string }) => referenced.has(`.google.protobuf.${m.name}`))
    f.enumType = (f.enumType ?? []).filter((e: { name: string }) => referenced.has(`.google.protobuf.${e.name}`))
  }
  return set
}
