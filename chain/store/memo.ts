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
