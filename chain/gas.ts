import { SdkErrors } from './errors.ts'
import { byMapKey, type ByMapKeyStore, type Key, type KVStore, type RangeOptions, type SyncRangeStore, type Value } from './store/types.ts'

/** Gas prices of store operations (the SDK's KV gas config, so estimates look familiar). */
export const KV_GAS = {
  hasCost: 1000n,
  deleteCost: 1000n,
  readCostFlat: 1000n,
  readCostPerByte: 3n,
  writeCostFlat: 2000n,
  writeCostPerByte: 30n,
  iterNextCostFlat: 30n,
} as const

// Per-byte costs of keys and values up to 4 KiB, precomputed: a bigint conversion and product per store
// access cost more than the access itself in the in-memory store.
const PER_BYTE_TABLE = 4096
const perByte = (price: bigint) => Array.from({ length: PER_BYTE_TABLE }, (_, n) => price * BigInt(n))
const READ_PER_BYTE = perByte(KV_GAS.readCostPerByte)
const WRITE_PER_BYTE = perByte(KV_GAS.writeCostPerByte)
const readPerByte = (n: number) => (n < PER_BYTE_TABLE ? READ_PER_BYTE[n]! : KV_GAS.readCostPerByte * BigInt(n))
const writePerByte = (n: number) => (n < PER_BYTE_TABLE ? WRITE_PER_BYTE[n]! : KV_GAS.writeCostPerByte * BigInt(n))

/** Deterministic gas accounting: a limit, a running total, and a descriptor of what spent it. */
export class GasMeter {
  private used = 0n
  constructor(readonly limit: bigint | undefined) {}
  get consumed(): bigint {
    return this.used
  }
  consume(amount: bigint, descriptor: string): void {
    this.used += amount
    if (this.limit !== undefined && this.used > this.limit) {
      throw SdkErrors.OutOfGas.with(`out of gas in location: ${descriptor}; gasWanted: ${this.limit}, gasUsed: ${this.used}`)
    }
  }
}

/** A store that charges every operation to a gas meter before doing it. */
export class GasStore implements KVStore, SyncRangeStore, ByMapKeyStore {
  readonly byMapKey: boolean
  constructor(
    private readonly inner: KVStore,
    private readonly meter: GasMeter,
  ) {
    this.byMapKey = byMapKey(inner) !== undefined
  }

  // The same charges by map key (its length is the key's), when the store underneath takes map keys.
  getByMapKey(mk: string): Value | undefined {
    this.meter.consume(KV_GAS.readCostFlat, 'ReadFlat')
    const v = (this.inner as unknown as ByMapKeyStore).getByMapKey(mk)
    this.meter.consume(readPerByte(mk.length + (v?.length ?? 0)), 'ReadPerByte')
    return v
  }
  hasByMapKey(mk: string): boolean {
    this.meter.consume(KV_GAS.hasCost, 'Has')
    return (this.inner as unknown as ByMapKeyStore).hasByMapKey(mk)
  }
  setByMapKey(mk: string, value: Value): void {
    this.meter.consume(KV_GAS.writeCostFlat, 'WriteFlat')
    this.meter.consume(writePerByte(mk.length + value.length), 'WritePerByte')
    ;(this.inner as unknown as ByMapKeyStore).setByMapKey(mk, value)
  }
  deleteByMapKey(mk: string): void {
    this.meter.consume(KV_GAS.deleteCost, 'Delete')
    ;(this.inner as unknown as ByMapKeyStore).deleteByMapKey(mk)
  }
  get(key: Key): Value | undefined {
    this.meter.consume(KV_GAS.readCostFlat, 'ReadFlat')
    const v = this.inner.get(key)
    this.meter.consume(readPerByte(key.length + (v?.length ?? 0)), 'ReadPerByte')
    return v
  }
  has(key: Key): boolean {
    this.meter.consume(KV_GAS.hasCost, 'Has')
    return this.inner.has(key)
  }
  set(key: Key, value: Value): void {
    this.meter.consume(KV_GAS.writeCostFlat, 'WriteFlat')
    this.meter.consume(writePerByte(key.length + value.length), 'WritePerByte')
    this.inner.set(key, value)
  }
  delete(key: Key): void {
    this.meter.consume(KV_GAS.deleteCost, 'Delete')
    this.inner.delete(key)
  }
  rangeSync(opts?: RangeOptions): Iterable<[Key, Value]> | undefined {
    const inner = (this.inner as Partial<SyncRangeStore>).rangeSync?.(opts)
    return inner && this.charged(inner)
  }
  private *charged(entries: Iterable<[Key, Value]>): Iterable<[Key, Value]> {
    for (const e of entries) {
      this.chargeNext(e)
      yield e
    }
  }
  private chargeNext([k, v]: [Key, Value]): void {
    this.meter.consume(KV_GAS.iterNextCostFlat, 'IterNextFlat')
    this.meter.consume(readPerByte(k.length + v.length), 'ValuePerByte')
  }
  async *iterate(opts?: RangeOptions): AsyncIterable<[Key, Value]> {
    const sync = this.rangeSync(opts)
    if (sync) {
      yield* sync
      return
    }
    for await (const e of this.inner.iterate(opts)) {
      this.chargeNext(e)
      yield e
    }
  }
}
