import type { Event } from './events.ts'
import { GasMeter, GasStore } from './gas.ts'
import { PrefixStore } from './store/prefix.ts'
import type { KVStore } from './store/types.ts'

const prefixes = new Map<string, Uint8Array>()
const storePrefix = (name: string): Uint8Array => {
  let p = prefixes.get(name)
  if (!p) {
    p = new Uint8Array(Buffer.from(`${name}/`, 'ascii'))
    prefixes.set(name, p)
  }
  return p
}

/** How a state transition is being run: it decides what is checked and what is kept. */
export type ExecMode = 'check' | 'recheck' | 'simulate' | 'deliver' | 'genesis'

export interface BlockInfo {
  chainId: string
  height: bigint
  /** Block time in whole seconds and nanoseconds since the Unix epoch (CometBFT's BFT time). */
  timeSeconds: bigint
  timeNanos: number
  proposer: Uint8Array
  /** Chain randomness inputs: the block hash (empty when not yet known, e.g. in CheckTx). */
  hash: Uint8Array
  lastAppHash: Uint8Array
}

/**
 * What a message handler, begin/end-block hook or genesis function sees: its module's store
 * (prefixed and gas-metered), the block, the gas meter and the event list.
 */
export class Context {
  readonly events: Event[] = []
  /** The module stores handed out so far (a view holds no state of its own, so one per module serves every call). */
  private readonly views = new Map<string, KVStore>()
  constructor(
    readonly store: KVStore,
    readonly gas: GasMeter,
    readonly block: BlockInfo,
    readonly mode: ExecMode,
  ) {}

  /** The store of module `name`: keys live under `name/`, and every access is charged. */
  kv(name: string): KVStore {
    let v = this.views.get(name)
    if (!v) this.views.set(name, (v = new PrefixStore(new GasStore(this.store, this.gas), storePrefix(name))))
    return v
  }

  emit(...events: Event[]): void {
    this.events.push(...events)
  }
}

/** Queries read committed state; no gas is charged, results are bounded by their own limits. */
export class QueryContext {
  constructor(
    readonly store: KVStore,
    readonly height: bigint,
    readonly chainId: string,
    readonly blockTime: bigint = 0n,
  ) {}
  kv(name: string): KVStore {
    return new PrefixStore(this.store, storePrefix(name))
  }
}
