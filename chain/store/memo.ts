/**
 * A stored record that is read far more often than it changes (a module's params, read on every tx and
 * every dispatch): decoded again only when the stored bytes differ from the last ones. The store is still
 * read (and charged) every time; only the decoding is saved. The decoded object is shared between
 * callers, who must not change it.
 */
export class LastDecoded<T> {
  private last?: { raw: Uint8Array; value: T }
  constructor(private readonly decode: (v: Uint8Array) => T) {}

  of(v: Uint8Array): T {
    const last = this.last
    if (last && last.raw.length === v.length && Buffer.compare(last.raw, v) === 0) return last.value
    const value = this.decode(v)
    this.last = { raw: Uint8Array.from(v), value }
    return value
  }
}

/**
 * Decoding by stored value object: an in-memory store (and an overlay over it) returns the same value
 * object for a key until the key is overwritten, so a record read several times in a block is decoded
 * once. A store that returns fresh bytes per read (LevelDB) simply decodes each time. The decoded record
 * is shared, so it is frozen (its arrays and nested records too): a caller that changed it would throw
 * rather than change what the next caller reads.
 */
export function decodedByValue<T extends object>(decode: (v: Uint8Array) => T): (v: Uint8Array) => T {
  const decoded = new WeakMap<Uint8Array, T>()
  return (v) => {
    let r = decoded.get(v)
    if (r === undefined) decoded.set(v, (r = deepFreeze(decode(v))))
    return r
  }
}

function deepFreeze<T>(x: T): T {
  if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x) || Object.isFrozen(x)) return x
  for (const v of Object.values(x)) deepFreeze(v)
  return Object.freeze(x)
}
