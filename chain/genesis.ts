/**
 * Genesis `app_state` in both directions. Modules read their part with `genesisObject` (snake_case,
 * as in every Cosmos genesis file, or camelCase; an unknown name is an error, so a typo stops the
 * chain at InitChain instead of silently using a default) and write it with `toGenesisJSON`
 * (snake_case, proto3 JSON otherwise: int64 as strings, bytes base64, enums by name).
 */

type ProtoJSON<T> = { fromJSON(o: unknown): T; toJSON(m: T): unknown; fromPartial(o: object): T }

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

function mapKeys(v: unknown, f: (k: string) => string): unknown {
  if (Array.isArray(v)) return v.map((x) => mapKeys(x, f))
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapKeys(x, f)]))
}

/**
 * A module's genesis object with camelCase keys at every depth; its top-level names must be fields
 * of the module's GenesisState message. Missing means the module's defaults.
 */
export function genesisObject<T>(type: ProtoJSON<T>, state: unknown, module: string): Record<string, unknown> {
  if (state === undefined || state === null) return {}
  if (typeof state !== 'object' || Array.isArray(state)) throw new Error(`${module}: genesis state must be an object`)
  const g = mapKeys(state, camel) as Record<string, unknown>
  const known = new Set(Object.keys(type.fromPartial({}) as object))
  for (const k of Object.keys(g)) if (!known.has(k)) throw new Error(`${module}: unknown genesis field ${JSON.stringify(snake(k))}`)
  return g
}

/** A module's GenesisState as genesis JSON (snake_case names). */
export function toGenesisJSON<T>(type: ProtoJSON<T>, msg: T): unknown {
  return mapKeys(type.toJSON(msg), snake)
}

/**
 * Genesis parameters: the module's defaults, overridden by what `app_state.<module>.params` gives
 * (snake_case or camelCase). An unknown name is an error naming it.
 */
export function mergeParams<T>(
  type: { fromJSON(o: unknown): T; toJSON(m: T): unknown },
  defaults: T,
  given: Record<string, unknown> | undefined,
  module: string,
): T {
  const base = type.toJSON(defaults) as Record<string, unknown>
  const known = new Set(Object.keys(type.toJSON(type.fromJSON({})) as object).concat(Object.keys(base)))
  const overrides: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(given ?? {})) {
    const c = camel(k)
    if (!known.has(c) && !(c in (defaults as object))) throw new Error(`${module}.params: unknown parameter ${JSON.stringify(k)}`)
    // proto3 JSON reads any non-empty string as true ("false" included): booleans are checked here.
    if (typeof (defaults as Record<string, unknown>)[c] === 'boolean') {
      if (v !== true && v !== false && v !== 'true' && v !== 'false') throw new Error(`${module}.params.${k} must be true or false, got ${JSON.stringify(v)}`)
      overrides[c] = v === true || v === 'true'
      continue
    }
    overrides[c] = v
  }
  return type.fromJSON({ ...base, ...overrides })
}
