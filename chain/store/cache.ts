import { fromMapKey, toMapKey } from './keys.ts'
import { byMapKey, type ByMapKeyStore, type Key, type KVStore, type MapKeyedStore, type RangeOptions, type Value } from './types.ts'

const DELETED = null

/**
 * A copy-on-write overlay over a parent store. Writes stay here until `writeTo()` moves them to
 * the parent (or the overlay is dropped, which discards them: that is how a failed transaction
 * leaves nothing behind). Iteration merges the overlay with the parent in key order.
 */
export class CacheStore implements KVStore, MapKeyedStore, ByMapKeyStore {
  private readonly writes = new Map<string, Value | typeof DELETED>()
  readonly byMapKey: boolean

  constructor(private readonly parent: KVStore | ReadOnlyParent) {
    this.byMapKey = byMapKey(parent) !== undefined
  }

  // Map-keyed point operations: only when the parent takes map keys too (`byMapKey`).
  getByMapKey(mk: string): Value | undefined {
    const w = this.writes.get(mk)
    if (w !== undefined) return w === DELETED ? undefined : w
    return (this.parent as unknown as ByMapKeyStore).getByMapKey(mk)
  }
  hasByMapKey(mk: string): boolean {
    return this.getByMapKey(mk) !== undefined
  }
  setByMapKey(mk: string, value: Value): void {
    this.writes.set(mk, Uint8Array.from(value))
  }
  deleteByMapKey(mk: string): void {
    this.writes.set(mk, DELETED)
  }

  get(key: Key): Value | undefined {
    return this.lookup(toMapKey(key), key)
  }

  /** A read with the map key already computed: nested overlays convert each key once. */
  lookup(mk: string, key: Key): Value | undefined {
    const w = this.writes.get(mk)
    if (w !== undefined) return w === DELETED ? undefined : w
    const p = this.parent as (KVStore | ReadOnlyParent) & Partial<MapKeyedStore>
    return p.lookup ? p.lookup(mk, key) : p.get(key)
  }

  has(key: Key): boolean {
    return this.get(key) !== undefined
  }

  set(key: Key, value: Value): void {
    this.writes.set(toMapKey(key), Uint8Array.from(value))
  }

  delete(key: Key): void {
    this.writes.set(toMapKey(key), DELETED)
  }

  /** Moves every write to the parent, in key order, and empties this overlay. */
  writeTo(target: KVStore = this.parent as KVStore): void {
    const t = target as KVStore & Partial<MapKeyedStore>
    for (const k of t.writeOrderFree ? this.writes.keys() : [...this.writes.keys()].sort()) {
      const v = this.writes.get(k)!
      // A target that takes map keys gets this overlay's own copy of the value (the overlay is emptied below).
      if (v === DELETED) {
        if (t.deleteMapKey) t.deleteMapKey(k)
        else t.delete(fromMapKey(k))
      } else if (t.setOwned) t.setOwned(k, v)
      else t.set(fromMapKey(k), v)
    }
    this.writes.clear()
  }

  /** The pending writes in key order (`undefined` value = delete). */
  changes(): Array<[Key, Value | undefined]> {
    return [...this.writes.keys()].sort().map((k) => {
      const v = this.writes.get(k)!
      return [fromMapKey(k), v === DELETED ? undefined : v]
    })
  }

  get size(): number {
    return this.writes.size
  }

  /** A copy of this overlay with the same parent. */
  clone(): CacheStore {
    const c = new CacheStore(this.parent)
    for (const [k, v] of this.writes) c.writes.set(k, v)
    return c
  }

  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    const startS = opts.start ? toMapKey(opts.start) : undefined
    const endS = opts.end ? toMapKey(opts.end) : undefined
    const reverse = opts.reverse ?? false
    const local = [...this.writes.keys()].filter((k) => (startS === undefined || k >= startS) && (endS === undefined || k < endS)).sort()
    if (reverse) local.reverse()
    const limit = opts.limit ?? Infinity
    let emitted = 0
    let i = 0
    const before = (a: string, b: string) => (reverse ? a > b : a < b)
    const parentIt = this.parent.iterate({ start: opts.start, end: opts.end, reverse })[Symbol.asyncIterator]()
    let p = await parentIt.next()
    try {
      while (emitted < limit && (i < local.length || !p.done)) {
        const pk = p.done ? undefined : toMapKey(p.value[0])
        const lk = i < local.length ? local[i] : undefined
        if (lk !== undefined && (pk === undefined || before(lk, pk) || lk === pk)) {
          const v = this.writes.get(lk)!
          i++
          if (lk === pk) p = await parentIt.next()
          if (v === DELETED) continue
          emitted++
          yield [fromMapKey(lk), v]
        } else {
          emitted++
          yield p.value as [Key, Value]
          p = await parentIt.next()
        }
      }
    } finally {
      await parentIt.return?.()
    }
  }
}

type ReadOnlyParent = Pick<KVStore, 'get' | 'iterate'>
