import { Context, type BlockInfo } from '../../chain/context.ts'
import { GasMeter } from '../../chain/gas.ts'
import type { KVStore } from '../../chain/store/types.ts'

/** A deliver-mode context on `store` at block time `timeSeconds` (height 1, no gas limit): keeper-level tests. */
export function deliverContext(store: KVStore, timeSeconds: bigint): Context {
  const block = {
    chainId: 'x',
    height: 1n,
    timeSeconds,
    timeNanos: 0,
    proposer: new Uint8Array(),
    hash: new Uint8Array(32),
    lastAppHash: new Uint8Array(),
  } as BlockInfo
  return new Context(store, new GasMeter(undefined), block, 'deliver')
}
