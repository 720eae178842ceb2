import { prefixedKey, u64be } from '../../chain/store/encoding.ts'

// Store layout of the qos module (keys under "qos/"): every prefix in one place.
/** 0x01 | address bytes → NodeQos */
export const NODE = 0x01
/** 0x02 | u64be(time) | address bytes → ∅: excluded nodes, by the time they are healthy again */
export const REINCLUDE = 0x02

export const nodeKey = (addr: Uint8Array) => prefixedKey(NODE, addr)
export const reincludeKey = (time: bigint, addr: Uint8Array) => prefixedKey(REINCLUDE, u64be(time), addr)
