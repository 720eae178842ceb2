import { fromMapKey, toMapKey } from './keys.ts'
import type { Key, KVStore, RangeOptions, Value } from './types.ts'

/** An in-memory store with the same interface: for unit tests where the logic is the point. */
export class MemoryStore implements KVStore {
  private readonly data = new Map<string, Value>()
  get(key: Key): Value | undefined {
    return this.data.get(toMapKey(key))
  }
  has(key: Key): boolean {
    return this.data.has(toMapKey(key))
  }
  set(key: Key, value: Value): void {
    this.data.set(toMapKey(key), Uint8Array.from(value))
  }
  delete(key: Key): void {
    this.data.delete(toMapKey(key))
  }
  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    const s = opts.start ? toMapKey(opts.start) : undefined
    const e = opts.end ? toMapKey(opts.end) : undefined
    const keys = [...this.data.keys()].filter((k) => (s === undefined || k >= s) && (e === undefined || k < e)).sort()
    if (opts.reverse) keys.reverse()
    let n = 0
    for (const k of keys) {
      if (opts.limit !== undefined && n++ >= opts.limit) return
      const v = this.data.get(k)
      if (v !== undefined) yield [fromMapKey(k), v]
    }
  }
}
