import { prefixedKey, u64be } from '../../chain/store/encoding.ts'

// Store layout of the task module (keys under "task/"): every prefix in one place.
export const PARAMS_KEY = Uint8Array.of(0x00)
/** 0x01 | commitment → Task */
export const TASK = 0x01
/** → u64be: the sequence the next task gets */
export const SEQUENCE_KEY = Uint8Array.of(0x02)
/** 0x03 | u128be(MAX − priority) | u64be(sequence) → commitment: highest priority first, then oldest */
export const QUEUE = 0x03
/** 0x04 | u64be(deadline) | commitment → ∅: timeouts, earliest first */
export const DEADLINE = 0x04
/** 0x05 | commitment → ∅: tasks created this block, waiting for their sampling seed */
export const UNSEEDED = 0x05
/** 0x06 | sha256(creator ‖ args_hash) | node address → u64be(time): the group-window rule */
export const RECEIVED = 0x06
/** 0x07 | creator address | u64be(sequence) → commitment */
export const BY_CREATOR = 0x07
/** 0x08 | node address | u64be(sequence) → commitment */
export const BY_NODE = 0x08
/** 0x09 | status byte | u64be(sequence) → commitment */
export const BY_STATUS = 0x09
/** 0x10 | model id bytes | u8(len) | class key | … → a WeightedSet of the Available nodes of one node class (the dispatch index) */
export const CLASS = 0x10
/** 0x11 | model id bytes | class key → u64be(count of serving nodes of that class); a class key is u32be(vram) | name | version */
export const SERVING = 0x11
/** 0x12 | node address → the (model, class key) entries the node is counted for in SERVING */
export const COUNTED = 0x12
/** 0x14 | signature | u128be(MAX − priority) | u64be(sequence) → commitment: the queue of one dispatch signature (same filters) */
export const SIGNATURE_QUEUE = 0x14
/** 0x15 | u128be(MAX − priority) | u64be(sequence) | signature → ∅: the head task of each signature's queue, highest priority first */
export const HEADS = 0x15
/** → u64be: how many tasks are queued */
export const QUEUED_COUNT_KEY = Uint8Array.of(0x16)
/** 0x17 | node address | commitment → ∅: the node's tasks that have not ended */
export const OPEN_BY_NODE = 0x17
/** → u64be: the next sequence when the last block ended (tasks with a sequence at or above it were queued in this block) */
export const BLOCK_SEQUENCE_KEY = Uint8Array.of(0x18)
/** 0x19 | node address | u64be(sequence) → commitment: validation seats reserved on a Busy node, which takes them in order when it is free */
export const RESERVED = 0x19
/** 0x1a | model id bytes | u8(len) | class key | … → a WeightedSet of the serving (Available or Busy) nodes of one class: where seats are drawn */
export const SEAT_CLASS = 0x1a
/** 0x1b | node address → u64be(count): the node's unjudged first-task answers (collateral.ts); absent when 0. Rebuilt from the tasks at genesis */
export const UNJUDGED = 0x1b
/** 0x1c | u64be(hold_until) | commitment → ∅: committed first-task answers whose hold (answer_hold, collateral.ts) has not ended, earliest first */
export const HOLD = 0x1c

export const U128_MAX = (1n << 128n) - 1n
export const u128be = (n: bigint) => {
  const b = Buffer.alloc(16)
  b.writeBigUInt64BE(n >> 64n)
  b.writeBigUInt64BE(n & ((1n << 64n) - 1n), 8)
  return b
}

export const key = prefixedKey
export const taskKey = (commitment: Uint8Array) => prefixedKey(TASK, commitment)
export const unjudgedKey = (node: Uint8Array) => prefixedKey(UNJUDGED, node)
export const holdKey = (holdUntil: bigint, commitment: Uint8Array) => prefixedKey(HOLD, u64be(holdUntil), commitment)
export const deadlineKey = (deadline: bigint, commitment: Uint8Array) => prefixedKey(DEADLINE, u64be(deadline), commitment)
/** The order of the queues: highest priority first, then the oldest. */
export const queueOrder = (priority: bigint, sequence: bigint) => Buffer.concat([u128be(U128_MAX - priority), u64be(sequence)])
export const queueKey = (priority: bigint, sequence: bigint) => prefixedKey(QUEUE, queueOrder(priority, sequence))
