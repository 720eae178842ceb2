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

/** 0x05 | u64be(sequence) → SlashRecord: every slash, in order */
export const SLASH_PREFIX = Uint8Array.of(0x05)
/** 0x06 | address bytes | u64be(sequence) → ∅: one node's slashes */
export const SLASH_BY_NODE_PREFIX = Uint8Array.of(0x06)
/** → u64be: the next slash sequence */
export const SLASH_SEQUENCE_KEY = Uint8Array.of(0x07)

export const nodeKey = (addr: Uint8Array) => Buffer.concat([NODE_PREFIX, addr])
export const unbondingKey = (until: bigint, addr: Uint8Array) => Buffer.concat([UNBONDING_PREFIX, u64be(until), addr])
export const recordKey = (addr: Uint8Array) => Buffer.concat([RECORD_PREFIX, addr])
export const slashKey = (seq: bigint) => Buffer.concat([SLASH_PREFIX, u64be(seq)])
export const slashByNodeKey = (addr: Uint8Array, seq: bigint) => Buffer.concat([SLASH_BY_NODE_PREFIX, addr, u64be(seq)])
