import { toMapKey } from './keys.ts'
import { byMapKey, prefixEnd, type ByMapKeyStore, type Key, type KVStore, type RangeOptions, type SyncRangeStore, type Value } from './types.ts'

/** A view of the keys under `prefix`, with the prefix stripped: how a module sees its own store. */
export class PrefixStore implements KVStore, SyncRangeStore {
  private readonly parent: KVStore
  private readonly prefix: Uint8Array
  /** The prefix as a map key, for a parent that takes map keys all the way down (no key bytes built per access). */
  private readonly mkPrefix: string
  private readonly mkParent: ByMapKeyStore | undefined

  constructor(parent: KVStore, prefix: Uint8Array) {
    // A view of a view is one view of the joined prefixes: one key built per access instead of one per level.
    if (parent instanceof PrefixStore) {
      const joined = new Uint8Array(parent.prefix.length + prefix.length)
      joined.set(parent.prefix)
      joined.set(prefix, parent.prefix.length)
      prefix = joined
      parent = parent.parent
    }
    this.parent = parent
    this.prefix = prefix
    this.mkPrefix = toMapKey(prefix)
    this.mkParent = byMapKey(parent)
  }
  private full(key: Key): Uint8Array {
    const out = new Uint8Array(this.prefix.length + key.length)
    out.set(this.prefix)
    out.set(key, this.prefix.length)
    return out
  }
  get(key: Key) {
    const p = this.mkParent
    return p ? p.getByMapKey(this.mkPrefix + toMapKey(key)) : this.parent.get(this.full(key))
  }
  has(key: Key) {
    const p = this.mkParent
    return p ? p.hasByMapKey(this.mkPrefix + toMapKey(key)) : this.parent.has(this.full(key))
  }
  set(key: Key, value: Value) {
    const p = this.mkParent
    if (p) p.setByMapKey(this.mkPrefix + toMapKey(key), value)
    else this.parent.set(this.full(key), value)
  }
  delete(key: Key) {
    const p = this.mkParent
    if (p) p.deleteByMapKey(this.mkPrefix + toMapKey(key))
    else this.parent.delete(this.full(key))
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
