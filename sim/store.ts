import BTreeCjs from 'sorted-btree'
import { fromMapKey, toMapKey } from '../chain/store/keys.ts'
import type { ByMapKeyStore, Key, KVStore, MapKeyedStore, RangeOptions, SyncRangeStore, Value } from '../chain/store/types.ts'

/**
 * The twin's committed state: an ordered in-memory store. Values live in a hash map keyed by latin1
 * byte strings (a point read or an overwrite is O(1), whatever the state's size); the keys also live
 * in a B+ tree, whose string order is the unsigned byte order LevelDB uses, so a range read costs
 * O(log n + k) however many tasks the run has created. Only a new or deleted key touches the tree.
 * chain/store/memory.ts sorts every key per range read, which is right for unit tests and quadratic
 * for a million tasks.
 *
 * Most collections are never range-read (task records, accounts, balances, the dispatch index's weighted
 * sets: point reads only), and their keys need no order: keys are grouped into collections, `module/`
 * and the collection's prefix byte, and a collection's keys enter the tree only when a range read first
 * covers it (until then they are a plain set). A key with no collection byte is always in the tree.
 *
 * It can journal a block's writes (the first value each key had before the block), which is what
 * the app hash of the block needs: LtHash removes the old entries and adds the new ones.
 */
// sorted-btree is CommonJS with `exports.default` and `__esModule`: imported from ESM, the class is the default's
// default; when tsx loads this file as CommonJS (mocha requires a test file whose imports all allow it), the
// interop helper already unwrapped it.
const BTree: typeof BTreeCjs.default =
  (BTreeCjs as unknown as { default?: typeof BTreeCjs.default }).default ?? (BTreeCjs as unknown as typeof BTreeCjs.default)

/** Keys are latin1 strings (chars 0–255): this one sorts after all of them. */
const AFTER_EVERY_KEY = '\u0100'
/** Keys taken from the tree per step of a forward range read. */
const CHUNK = 32

/**
 * The collection of a map key: its module's `name/` and the next byte. Collections are prefix-free (a
 * name holds no '/'), so each covers its own interval of keys, [collection, collection + 1 char).
 * '' for a key without one (it goes straight into the tree).
 */
function collectionOf(k: string): string {
  const slash = k.indexOf('/')
  return slash < 0 || slash + 2 > k.length ? '' : k.slice(0, slash + 2)
}
/** Whether the interval of collection `c` meets the range [start, end). */
const meets = (c: string, start: string | undefined, end: string | undefined): boolean =>
  (end === undefined || c < end) && (start === undefined || start < collectionEnd(c))
const collectionEnd = (c: string): string => c.slice(0, -1) + String.fromCharCode(c.charCodeAt(c.length - 1) + 1)

// Plain string order (the library's default comparator also handles numbers, arrays and valueOf).
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export class OrderedStore implements KVStore, MapKeyedStore, SyncRangeStore, ByMapKeyStore {
  readonly byMapKey = true
  // The hash map's order is never read, the tree orders itself and the journal is sorted when it ends.
  readonly writeOrderFree = true
  private readonly values = new Map<string, Value>()
  /** The keys of the collections some range read has covered (and of keys without a collection), in order. */
  private readonly keys = new BTree<string, undefined>(undefined, byteOrder)
  /** The keys of each collection no range read has covered yet, unordered. */
  private readonly unordered = new Map<string, Set<string>>()
  /** Collections whose keys are in the tree. */
  private readonly ordered = new Set<string>([''])
  /** Range reads under way: a collection created meanwhile goes straight into the tree, where they look. */
  private ranging = 0
  private journal?: Map<string, Value | undefined>

  get size(): number {
    return this.values.size
  }

  get(key: Key): Value | undefined {
    return this.values.get(toMapKey(key))
  }
  lookup(mk: string): Value | undefined {
    return this.values.get(mk)
  }
  getByMapKey(mk: string): Value | undefined {
    return this.values.get(mk)
  }
  hasByMapKey(mk: string): boolean {
    return this.values.has(mk)
  }
  setByMapKey(mk: string, value: Value): void {
    this.setOwned(mk, Uint8Array.from(value))
  }
  deleteByMapKey(mk: string): void {
    this.deleteMapKey(mk)
  }
  has(key: Key): boolean {
    return this.values.has(toMapKey(key))
  }
  set(key: Key, value: Value): void {
    this.setOwned(toMapKey(key), Uint8Array.from(value))
  }
  delete(key: Key): void {
    this.deleteMapKey(toMapKey(key))
  }

  /** A write whose value the caller hands over (an overlay's, already copied): no second copy. */
  setOwned(k: string, value: Value): void {
    const before = this.values.get(k)
    if (this.journal && !this.journal.has(k)) this.journal.set(k, before)
    if (before === undefined) this.addKey(k)
    this.values.set(k, value)
  }
  deleteMapKey(k: string): void {
    const before = this.values.get(k)
    if (this.journal && !this.journal.has(k)) this.journal.set(k, before)
    if (before === undefined) return
    this.values.delete(k)
    const c = collectionOf(k)
    if (this.ordered.has(c)) this.keys.delete(k)
    else this.unordered.get(c)!.delete(k)
  }

  private addKey(k: string): void {
    const c = collectionOf(k)
    if (this.ordered.has(c)) {
      this.keys.set(k, undefined)
      return
    }
    let set = this.unordered.get(c)
    if (set === undefined) {
      if (this.ranging > 0) {
        this.ordered.add(c)
        this.keys.set(k, undefined)
        return
      }
      this.unordered.set(c, (set = new Set()))
    }
    set.add(k)
  }

  /** Moves the keys of every collection that meets [start, end) into the tree (once per collection). */
  private order(start: string | undefined, end: string | undefined): void {
    for (const [c, set] of this.unordered) {
      if (!meets(c, start, end)) continue
      for (const k of set) this.keys.set(k, undefined)
      this.unordered.delete(c)
      this.ordered.add(c)
    }
  }

  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    yield* this.range(opts)
  }
  rangeSync(opts?: RangeOptions): Iterable<[Key, Value]> {
    return this.range(opts)
  }

  /**
   * The same range read, synchronously (the twin's agents read state between blocks). Forward reads
   * take the keys from the tree a chunk at a time (`getRange`, one descent per chunk rather than a
   * tree iterator per read) and go on after the chunk's last key, so a write between two entries
   * never invalidates the read; an entry deleted meanwhile is skipped.
   */
  *range(opts: RangeOptions = {}): Iterable<[Key, Value]> {
    const start = opts.start ? toMapKey(opts.start) : undefined
    const end = opts.end ? toMapKey(opts.end) : undefined
    const limit = opts.limit ?? Infinity
    if (limit <= 0) return
    this.order(start, end)
    this.ranging++
    try {
      yield* this.walk(start, end, limit, opts.reverse ?? false)
    } finally {
      this.ranging--
    }
  }

  private *walk(start: string | undefined, end: string | undefined, limit: number, reverse: boolean): Iterable<[Key, Value]> {
    let n = 0
    if (!reverse) {
      let low = start ?? ''
      let skipLow = false
      const high = end ?? AFTER_EVERY_KEY
      for (;;) {
        const want = Math.min(CHUNK, limit - n) + (skipLow ? 1 : 0)
        const chunk = this.keys.getRange(low, high, false, want)
        for (let i = skipLow && chunk[0]?.[0] === low ? 1 : 0; i < chunk.length; i++) {
          const k = chunk[i]![0]
          const v = this.values.get(k)
          if (v === undefined) continue
          if (n++ >= limit) return
          yield [fromMapKey(k), v]
        }
        if (chunk.length < want || n >= limit) return
        low = chunk[chunk.length - 1]![0]
        skipLow = true
      }
    } else {
      // entriesReversed(high) starts at the largest key <= high; the end bound is exclusive.
      const it = end === undefined ? this.keys.entriesReversed() : this.keys.entriesReversed(end)
      for (const [k] of it) {
        if (end !== undefined && k >= end) continue
        if (start !== undefined && k < start) return
        if (n++ >= limit) return
        yield [fromMapKey(k), this.values.get(k)!]
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
    return [...j.keys()].sort().map((k) => ({ key: fromMapKey(k), before: j.get(k), after: this.values.get(k) }))
  }
}
