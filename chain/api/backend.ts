import { ChainError, SdkErrors } from '../errors.ts'
import type { QueryRoute } from '../module.ts'

/** What the gRPC and REST servers need from the node: the same queries ABCI answers, and a few more. */
export interface QueryBackend {
  /** Every method path served (`/pkg.Service/Method`). */
  paths(): string[]
  /**
   * Answers one query with the raw request bytes. `height` 0 is the latest; this node keeps only the
   * latest state, so any other height is the coded error 26, as on ABCI. Throws a ChainError.
   */
  query(path: string, data: Uint8Array, height: bigint): Promise<{ value: Uint8Array; height: bigint }>
}

/** The part of the application the backend uses (BerylApp implements it). */
export interface QueryableApp {
  queryPaths(): string[]
  query(req: {
    path: string
    data: Uint8Array
    height: bigint
    prove: boolean
  }): Promise<{ code?: number; codespace?: string; log?: string; value?: Uint8Array; height?: bigint }>
  latestHeight(): bigint
}

/**
 * Routes a method path to the application's query routes (exactly what ABCI `Query` runs, so a new
 * module's queries appear here with no change), or to the node's own routes (CometBFT-backed
 * services such as `cosmos.base.tendermint.v1beta1.Service`, which are not ABCI queries in the SDK
 * either: they must not run on CometBFT's query connection, since some call back into CometBFT).
 */
export function queryBackend(app: QueryableApp, nodeRoutes: QueryRoute[] = []): QueryBackend {
  const own = new Map(nodeRoutes.map((r) => [r.path, r]))
  return {
    paths: () => [...new Set([...app.queryPaths(), ...own.keys()])].sort(),
    async query(path, data, height) {
      const route = own.get(path)
      if (route) {
        const latest = app.latestHeight()
        if (height !== 0n && height !== latest) {
          throw SdkErrors.InvalidHeight.with(`this node keeps only the latest state (height ${latest}); historical queries at ${height} are not supported`)
        }
        try {
          return { value: await route.handle(undefined as never, data), height: latest }
        } catch (err) {
          if (err instanceof ChainError) throw err
          throw SdkErrors.Logic.with((err as Error).message)
        }
      }
      const r = await app.query({ path, data, height, prove: false })
      if (r.code) throw new ChainError(r.codespace ?? '', r.code, r.log ?? '')
      return { value: r.value ?? new Uint8Array(), height: r.height ?? 0n }
    },
  }
}

/** gRPC status codes (the numbers every gRPC and grpc-gateway client knows). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const

const byName: Record<string, number> = {
  ...GrpcCode,
  // As Go's codes.Code String() prints them in "rpc error: code = NotFound desc = …".
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
}

/** The SDK's root error codes that map to a gRPC status other than UNKNOWN. */
const sdkToGrpc: Record<number, number> = {
  2: 3,
  3: 3,
  4: 16,
  5: 9,
  6: 12,
  7: 3,
  8: 3,
  9: 5,
  10: 3,
  12: 3,
  14: 3,
  18: 3,
  21: 3,
  22: 5,
  26: 3,
  28: 3,
  29: 3,
  32: 9,
  37: 12,
  38: 5,
  41: 3,
}

/** A query error as gRPC and REST report it: a gRPC status, a message, and the Cosmos codespace and code. */
export interface ApiError {
  grpcCode: number
  message: string
  codespace: string
  code: number
}

/**
 * Maps a coded chain error to its gRPC status. Query handlers that follow the SDK write
 * "rpc error: code = NotFound desc = …" into the message (so cosmjs sees what it sees from the SDK):
 * that code wins, and the prefix is dropped from the message.
 */
export function apiError(err: unknown): ApiError {
  const e = err instanceof ChainError ? err : new ChainError('undefined', 1, `internal error: ${(err as Error)?.message ?? String(err)}`)
  const m = /rpc error: code = (\w+) desc = ([\s\S]*)$/.exec(e.message)
  if (m && byName[m[1]!] !== undefined) return { grpcCode: byName[m[1]!]!, message: m[2]!, codespace: e.codespace, code: e.code }
  const grpcCode = e.codespace === 'sdk' ? (sdkToGrpc[e.code] ?? GrpcCode.UNKNOWN) : e.code === 1 ? GrpcCode.INTERNAL : GrpcCode.UNKNOWN
  return { grpcCode, message: e.message, codespace: e.codespace, code: e.code }
}

/** The HTTP status grpc-gateway gives each gRPC status. */
export function httpStatus(grpcCode: number): number {
  return (
    (
      {
        0: 200,
        1: 499,
        2: 500,
        3: 400,
        4: 504,
        5: 404,
        6: 409,
        7: 403,
        8: 429,
        9: 400,
        10: 409,
        11: 400,
        12: 501,
        13: 500,
        14: 503,
        15: 500,
        16: 401,
      } as Record<number, number>
    )[grpcCode] ?? 500
  )
}

/** Parses a block height given by a client (header or query string); garbage is coded error 26. */
export function parseHeight(v: string | undefined): bigint {
  if (v === undefined || v === '') return 0n
  if (!/^\d{1,19}$/.test(v)) throw SdkErrors.InvalidHeight.with(`height must be a non-negative integer, got ${JSON.stringify(v.slice(0, 40))}`)
  return BigInt(v)
}
