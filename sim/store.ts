import BTreeCjs from 'sorted-btree'
import { fromMapKey, toMapKey } from '../chain/store/keys.ts'
import type { Key, KVStore, RangeOptions, Value } from '../chain/store/types.ts'

/**
 * The twin's committed state: an ordered in-memory store (a B+ tree keyed by latin1 byte strings,
 * whose string order is the unsigned byte order LevelDB uses), so a range read costs O(log n + k)
 * however many tasks the run has created. chain/store/memory.ts sorts every key per range read,
 * which is right for unit tests and quadratic for a million tasks.
 *
 * It can journal a block's writes (the first value each key had before the block), which is what
 * the app hash of the block needs: LtHash removes the old entries and adds the new ones.
 */
// sorted-btree is CommonJS with `exports.default` and `__esModule`: imported from ESM, the class is the default's
// default; when tsx loads this file as CommonJS (mocha requires a test file whose imports all allow it), the
// interop helper already unwrapped it.
const BTree: typeof BTreeCjs.default =
  (BTreeCjs as unknown as { default?: typeof BTreeCjs.default }).default ?? (BTreeCjs as unknown as typeof BTreeCjs.default)

export class OrderedStore implements KVStore {
  private readonly tree = new BTree<string, Value>()
  private journal?: Map<string, Value | undefined>

  get size(): number {
    return this.tree.size
  }

  get(key: Key): Value | undefined {
    return this.tree.get(toMapKey(key))
  }
  has(key: Key): boolean {
    return this.tree.has(toMapKey(key))
  }
  set(key: Key, value: Value): void {
    const k = toMapKey(key)
    if (this.journal && !this.journal.has(k)) this.journal.set(k, this.tree.get(k))
    this.tree.set(k, Uint8Array.from(value))
  }
  delete(key: Key): void {
    const k = toMapKey(key)
    if (this.journal && !this.journal.has(k)) this.journal.set(k, this.tree.get(k))
    this.tree.delete(k)
  }

  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    yield* this.range(opts)
  }

  /** The same range read, synchronously (the twin's agents read state between blocks). */
  *range(opts: RangeOptions = {}): Iterable<[Key, Value]> {
    const start = opts.start ? toMapKey(opts.start) : undefined
    const end = opts.end ? toMapKey(opts.end) : undefined
    const limit = opts.limit ?? Infinity
    let n = 0
    if (!opts.reverse) {
      const it = start === undefined ? this.tree.entries() : this.tree.entries(start)
      for (const [k, v] of it) {
        if (end !== undefined && k >= end) return
        if (n++ >= limit) return
        yield [fromMapKey(k), v]
      }
    } else {
      // entriesReversed(high) starts at the largest key <= high; the end bound is exclusive.
      const it = end === undefined ? this.tree.entriesReversed() : this.tree.entriesReversed(end)
      for (const [k, v] of it) {
        if (end !== undefined && k >= end) continue
        if (start !== undefined && k < start) return
        if (n++ >= limit) return
        yield [fromMapKey(k), v]
      }
    }
  }

  /** Starts recording the value each key had before its first write. */
  beginJournal(): void {
    this.journal = new Map()
  }

  /** Ends the journal: every changed key with its value before and after, in key order. */
  endJournal(): Array<{ key: Key; before: Value | undefined; after: Value | undefined }> {
    const j = this.journal ?? new Map()
    this.journal = undefined
    return [...j.keys()].sort().map((k) => ({ key: fromMapKey(k), before: j.get(k), after: this.tree.get(k) }))
  }
}
