import { prefixEnd, type Key, type KVStore, type RangeOptions, type Value } from './types.ts'

/** A view of the keys under `prefix`, with the prefix stripped: how a module sees its own store. */
export class PrefixStore implements KVStore {
  private readonly end: Uint8Array | undefined
  constructor(
    private readonly parent: KVStore,
    private readonly prefix: Uint8Array,
  ) {
    this.end = prefixEnd(prefix)
  }
  private full(key: Key): Uint8Array {
    const out = new Uint8Array(this.prefix.length + key.length)
    out.set(this.prefix)
    out.set(key, this.prefix.length)
    return out
  }
  get(key: Key) {
    return this.parent.get(this.full(key))
  }
  has(key: Key) {
    return this.parent.has(this.full(key))
  }
  set(key: Key, value: Value) {
    this.parent.set(this.full(key), value)
  }
  delete(key: Key) {
    this.parent.delete(this.full(key))
  }
  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    const start = opts.start ? this.full(opts.start) : this.prefix
    const end = opts.end ? this.full(opts.end) : this.end
    for await (const [k, v] of this.parent.iterate({ start, end, reverse: opts.reverse, limit: opts.limit })) {
      yield [k.subarray(this.prefix.length), v]
    }
  }
}
