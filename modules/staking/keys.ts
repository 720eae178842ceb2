import { u64be } from '../../chain/store/encoding.ts'

// Store layout of the staking module (keys under "staking/"): every prefix in one place.
export const PARAMS_KEY = Uint8Array.of(0x00)
/** 0x01 | address bytes → Node */
export const NODE_PREFIX = Uint8Array.of(0x01)
/** 0x02 | u64be(unbonding_until) | address bytes → ∅: the stake-return queue */
export const UNBONDING_PREFIX = Uint8Array.of(0x02)
/** → u64be: how many nodes are Available */
export const AVAILABLE_COUNT_KEY = Uint8Array.of(0x03)
/** 0x04 | address bytes → NodeRecord (kept after the node is removed) */
export const RECORD_PREFIX = Uint8Array.of(0x04)

export const nodeKey = (addr: Uint8Array) => Buffer.concat([NODE_PREFIX, addr])
export const unbondingKey = (until: bigint, addr: Uint8Array) => Buffer.concat([UNBONDING_PREFIX, u64be(until), addr])
export const recordKey = (addr: Uint8Array) => Buffer.concat([RECORD_PREFIX, addr])
