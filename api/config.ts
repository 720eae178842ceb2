// The API's configuration file (TOML), e.g. <node home>/config/api.toml:
//
//   listen = "127.0.0.1:8080"
//   node = "http://127.0.0.1:26657"            # CometBFT RPC
//   gateways = ["/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…"]
//   public_url = "http://127.0.0.1:8080"       # base of image URLs (default: http://<listen>)
//   fee = "1000000"                            # uberyl escrowed per task
//   body_limit_bytes = 262144
//   max_concurrent_per_key = 4                 # requests in flight per key (they run one at a time per account)
//   task_timeout_s = 600
//
//   [[keys]]
//   name = "my-app"
//   sha256 = "<hex sha256 of the key>"         # or key = "sk-…" (plain; devnets)
//   account = "account1"                       # keyring account that pays
//   daily_limit_uberyl = "50000000"            # task fees + tx fees per UTC day
//
//   [[models]]                                 # names clients may use (the hex id always works)
//   name = "smollm2-135m-instruct"
//   id = "4b8d…"
//   kind = "text"
import { createHash } from 'node:crypto'
import { parse } from 'smol-toml'

export interface ApiKey {
  name: string
  sha256: string
  account: string
  dailyLimit: bigint
}
export interface ApiModel {
  name: string
  id: string
  kind: 'text' | 'image'
}

export interface ApiConfig {
  listen: { host: string; port: number }
  node: string
  gateways: string[]
  publicUrl?: string
  fee: bigint
  bodyLimitBytes: number
  maxConcurrentPerKey: number
  taskTimeoutS: number
  keys: ApiKey[]
  models: ApiModel[]
}

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex')

const HEX64 = /^[0-9a-f]{64}$/

export function parseApiConfig(text: string, defaults: { models?: ApiModel[] } = {}): ApiConfig {
  const o = parse(text) as Record<string, unknown>
  const problems: string[] = []
  const str = (k: string, d?: string): string => {
    const v = o[k] ?? d
    if (typeof v !== 'string') {
      problems.push(`${k} must be a string`)
      return ''
    }
    return v
  }
  const int = (k: string, d: number, min: number, max: number): number => {
    const v = o[k] ?? d
    if (typeof v !== 'number' && typeof v !== 'bigint') {
      problems.push(`${k} must be a number`)
      return d
    }
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${k} must be an integer from ${min} to ${max}`)
    return n
  }
  const listen = str('listen', '127.0.0.1:8080')
  const m = /^(.+):(\d+)$/.exec(listen)
  if (!m) problems.push('listen must be host:port')
  const keys = ((o.keys ?? []) as Record<string, unknown>[]).map((k, i): ApiKey => {
    const plain = typeof k.key === 'string' ? k.key : undefined
    const sha = typeof k.sha256 === 'string' ? k.sha256.toLowerCase() : plain ? sha256Hex(plain) : ''
    if (!HEX64.test(sha)) problems.push(`keys[${i}]: give sha256 (64 hex) or key`)
    if (typeof k.account !== 'string' || !k.account) problems.push(`keys[${i}]: account is required`)
    const limit = String(k.daily_limit_uberyl ?? '')
    if (!/^\d+$/.test(limit)) problems.push(`keys[${i}]: daily_limit_uberyl must be an integer string`)
    return {
      name: typeof k.name === 'string' ? k.name : `key${i + 1}`,
      sha256: sha,
      account: String(k.account ?? ''),
      dailyLimit: /^\d+$/.test(limit) ? BigInt(limit) : 0n,
    }
  })
  const models =
    o.models === undefined
      ? (defaults.models ?? [])
      : (o.models as Record<string, unknown>[]).map((x, i): ApiModel => {
          if (typeof x.id !== 'string' || !HEX64.test(x.id)) problems.push(`models[${i}]: id must be a model id (64 hex)`)
          if (x.kind !== 'text' && x.kind !== 'image') problems.push(`models[${i}]: kind must be "text" or "image"`)
          return { name: String(x.name ?? x.id), id: String(x.id), kind: x.kind as 'text' | 'image' }
        })
  const gateways = o.gateways
  if (!Array.isArray(gateways) || !gateways.length || gateways.some((g) => typeof g !== 'string'))
    problems.push('gateways must be a non-empty list of multiaddrs')
  const fee = str('fee', '1000000')
  if (!/^\d+$/.test(fee)) problems.push('fee must be an integer string (uberyl)')
  const cfg: ApiConfig = {
    listen: { host: m?.[1] ?? '127.0.0.1', port: Number(m?.[2] ?? 0) },
    node: str('node', 'http://127.0.0.1:26657'),
    gateways: (gateways ?? []) as string[],
    publicUrl: typeof o.public_url === 'string' ? o.public_url.replace(/\/$/, '') : undefined,
    fee: /^\d+$/.test(fee) ? BigInt(fee) : 0n,
    bodyLimitBytes: int('body_limit_bytes', 262_144, 1024, 16 << 20),
    maxConcurrentPerKey: int('max_concurrent_per_key', 4, 1, 256),
    taskTimeoutS: int('task_timeout_s', 600, 10, 3600),
    keys,
    models,
  }
  if (problems.length) throw new Error(`api config: ${problems.join('; ')}`)
  return cfg
}
