import { prefixedKey, u64be } from '../../chain/store/encoding.ts'

// Store layout of the vss module (keys under "vss/"): every prefix in one place.
export const PARAMS_KEY = Uint8Array.of(0x00)
/** → ChainSeed: the seed of the latest block executed (this block's, from its begin-block hook on) */
export const LATEST_SEED_KEY = Uint8Array.of(0x01)
/** 0x02 | u64be(height) → ChainSeed: the seeds of the last SEED_HISTORY heights */
export const SEED = 0x02
export const seedKey = (height: bigint) => prefixedKey(SEED, u64be(height))
/** How many heights of seeds are kept (older ones are deleted as blocks go by). */
export const SEED_HISTORY = 100_000n
