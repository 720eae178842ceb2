import { prefixEnd, type Key, type KVStore, type RangeOptions, type SyncRangeStore, type Value } from './types.ts'

/** A view of the keys under `prefix`, with the prefix stripped: how a module sees its own store. */
export class PrefixStore implements KVStore, SyncRangeStore {
  constructor(
    private readonly parent: KVStore,
    private readonly prefix: Uint8Array,
  ) {}
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
  private parentRange(opts: RangeOptions): RangeOptions {
    const start = opts.start ? this.full(opts.start) : this.prefix
    const end = opts.end ? this.full(opts.end) : prefixEnd(this.prefix)
    return { start, end, reverse: opts.reverse, limit: opts.limit }
  }
  rangeSync(opts: RangeOptions = {}): Iterable<[Key, Value]> | undefined {
    const inner = (this.parent as Partial<SyncRangeStore>).rangeSync?.(this.parentRange(opts))
    return inner && stripPrefix(inner, this.prefix.length)
  }
  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    const sync = this.rangeSync(opts)
    if (sync) {
      yield* sync
      return
    }
    for await (const [k, v] of this.parent.iterate(this.parentRange(opts))) {
      yield [k.subarray(this.prefix.length), v]
    }
  }
}

function* stripPrefix(entries: Iterable<[Key, Value]>, n: number): Iterable<[Key, Value]> {
  for (const [k, v] of entries) yield [k.subarray(n), v]
}
