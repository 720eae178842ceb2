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
