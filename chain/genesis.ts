/**
 * Genesis parameters: the module's defaults, overridden by what `app_state.<module>.params` gives
 * (snake_case, as in every Cosmos genesis file, or camelCase). An unknown name is an error, so a
 * typo in a genesis file stops the chain at InitChain instead of silently using a default.
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
    const camel = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
    if (!known.has(camel) && !(camel in (defaults as object))) throw new Error(`${module}.params: unknown parameter ${JSON.stringify(k)}`)
    overrides[camel] = v
  }
  return type.fromJSON({ ...base, ...overrides })
}
