/** Keys and values are raw bytes; keys sort by unsigned byte order everywhere. */
export type Key = Uint8Array
export type Value = Uint8Array

export interface RangeOptions {
  /** Inclusive lower bound. */
  start?: Key
  /** Exclusive upper bound. */
  end?: Key
  reverse?: boolean
  limit?: number
}

/**
 * The store modules see. Reads are synchronous (LevelDB point reads are fast and a synchronous
 * state machine cannot interleave); range reads are asynchronous iterators in key order.
 */
export interface KVStore {
  get(key: Key): Value | undefined
  has(key: Key): boolean
  set(key: Key, value: Value): void
  delete(key: Key): void
  iterate(opts?: RangeOptions): AsyncIterable<[Key, Value]>
}

/**
 * A store that also takes keys already converted to map keys (chain/store/keys.ts), so that an overlay
 * in front of it converts each key once, and hands over the values it already copied.
 */
export interface MapKeyedStore {
  lookup(mk: string, key: Key): Value | undefined
  /** Takes ownership of `value` (the caller never changes it afterwards). */
  setOwned?(mk: string, value: Value): void
  deleteMapKey?(mk: string): void
  /** Writes applied in any order leave the same state (and journal): an overlay need not sort them first. */
  readonly writeOrderFree?: boolean
}

/**
 * A store that takes map keys (chain/store/keys.ts) for every point operation, down to the store at the
 * bottom: the in-memory stores and overlays over them. A view over it (prefix, gas) then never builds a
 * key's bytes; a map key has one character per byte, so its length is the key's, which is all gas needs.
 */
export interface ByMapKeyStore {
  /** False for an overlay over a store that needs the bytes (LevelDB): views over it take the byte path. */
  readonly byMapKey: boolean
  getByMapKey(mk: string): Value | undefined
  hasByMapKey(mk: string): boolean
  /** Copies `value`, as set() does. */
  setByMapKey(mk: string, value: Value): void
  deleteByMapKey(mk: string): void
}

/** The store as a ByMapKeyStore, when every point operation down the stack takes map keys. */
export const byMapKey = (s: unknown): ByMapKeyStore | undefined => ((s as Partial<ByMapKeyStore>).byMapKey === true ? (s as ByMapKeyStore) : undefined)

/**
 * A store whose range reads can also run synchronously (an in-memory store, and views over one). A
 * chain of prefix and gas views then costs one async step per entry, at its outer end, instead of one
 * per layer. `rangeSync` returns undefined where the store underneath is asynchronous (LevelDB).
 */
export interface SyncRangeStore {
  rangeSync(opts?: RangeOptions): Iterable<[Key, Value]> | undefined
}

/** A read-only view (committed state, as queries see it). */
export type ReadStore = Pick<KVStore, 'get' | 'has' | 'iterate'>

export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++
      return end.subarray(0, i + 1)
    }
  }
  return undefined
}
