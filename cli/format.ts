import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Readable `--output json` for Beryl's own messages: ids and hashes in hex (the encoding the CLI
 * prints and accepts everywhere), 18-decimal fixed-point values as decimals ("0.0123"), enums by name.
 * The REST and gRPC servers keep the proto3 JSON rules (base64 bytes, integer strings) that Cosmos
 * clients expect; this is only for people reading the CLI.
 */

const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'proto', 'beryl')

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

/** Every `bytes` field of Beryl's messages, by its JSON (camelCase) name, read from `proto/beryl`. */
export const BYTES_FIELDS: ReadonlySet<string> = (() => {
  const out = new Set<string>()
  for (const f of fs.readdirSync(PROTO_DIR, { recursive: true }) as string[]) {
    if (!f.endsWith('.proto')) continue
    for (const m of fs.readFileSync(path.join(PROTO_DIR, f), 'utf8').matchAll(/^\s*(?:repeated\s+)?bytes\s+(\w+)\s*=/gm)) out.add(camel(m[1]!))
  }
  return out
})()

/** Fixed-point string fields and their decimals (the protos document each: "18-decimal fixed point"). */
export const FIXED_POINT_FIELDS: Readonly<Record<string, number>> = {
  samplingRate: 18,
  minSamplingRate: 18,
  assumedDishonestShare: 18,
  protocolFeeShare: 18,
  healthBase: 18,
  qLong: 18,
  health: 18,
  qosValue: 18,
  rate: 18,
  attackerSeatProbability: 18,
  expectedProfit: 36, // uberyl, 36 decimals
}

/** A fixed-point integer string as a decimal string: ("12345679012345680", 18) → "0.01234567901234568". */
export function fixedToDecimal(v: string, decimals = 18): string {
  if (!/^-?\d+$/.test(v)) return v
  const neg = v.startsWith('-')
  const digits = (neg ? v.slice(1) : v).padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals).replace(/^0+(?=\d)/, '')
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '')
  const s = frac ? `${whole}.${frac}` : whole
  return neg && s !== '0' ? `-${s}` : s
}

/** An 18-decimal fixed-point rate as a percentage with up to `digits` decimals: "12345679012345680" → "1.23%". */
export function fixedToPercent(v: string, digits = 2): string {
  if (!/^-?\d+$/.test(v)) return v
  const scaled = (BigInt(v) * 100n * 10n ** BigInt(digits)) / 10n ** 18n
  return `${fixedToDecimal(scaled.toString(), digits)}%`
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * A message's ts-proto `toJSON()` (camelCase keys, bytes as base64, enums already by name) made
 * readable: bytes fields in hex, fixed-point fields as decimals. Keys the caller added in another
 * form (snake_case, values already converted) are left alone.
 */
export function readable<T>(json: T): T {
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, key))
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]))
    if (typeof v !== 'string' || key === undefined) return v
    if (BYTES_FIELDS.has(key) && BASE64.test(v) && v.length % 4 === 0) return Buffer.from(v, 'base64').toString('hex')
    const decimals = FIXED_POINT_FIELDS[key]
    if (decimals !== undefined && /^-?\d+$/.test(v)) return fixedToDecimal(v, decimals)
    return v
  }
  return walk(json) as T
}

const E18 = 10n ** 18n

/** An 18-decimal fixed-point value as a number with 4 decimals, e.g. "0.9500" (text output). */
export const fixed4 = (v: string) => (Number((BigInt(v || '0') * 10_000n) / E18) / 10_000).toFixed(4)

/** An 18-decimal fixed-point fraction as a percentage with 4 decimals, e.g. "1.0000%" (text output). */
export const percent = (v: string) => `${(Number((BigInt(v) * 1_000_000n) / E18) / 10_000).toFixed(4)}%`
