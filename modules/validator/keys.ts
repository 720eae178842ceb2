import { u64be } from '../../chain/store/encoding.ts'

// Store layout of the validator module (keys under "validator/"): every prefix in one place.
export const PARAMS_KEY = Uint8Array.of(0x00)
/** 0x01 | account bytes → Validator */
export const VALIDATOR_PREFIX = Uint8Array.of(0x01)
/** 0x02 | consensus address (sha256(pubkey)[:20]) → account bytes */
export const CONS_PREFIX = Uint8Array.of(0x02)
/** 0x03 | u64be(2^64-1 - power) | account bytes → ∅: eligible validators, highest power first */
export const POWER_PREFIX = Uint8Array.of(0x03)
/** → ActiveSet: what CometBFT was last told */
export const ACTIVE_SET_KEY = Uint8Array.of(0x04)
/** 0x05 | account bytes | u64be(creation_height) → UnbondingEntry */
export const UNBONDING_PREFIX = Uint8Array.of(0x05)
/** 0x06 | u64be(completion_time) | account bytes | u64be(creation_height) → ∅: the return queue */
export const UNBONDING_QUEUE_PREFIX = Uint8Array.of(0x06)
/** 0x07 | consensus address → SigningInfo */
export const SIGNING_INFO_PREFIX = Uint8Array.of(0x07)
/** 0x08 | consensus address | u64be(index mod window) → 0x01: a missed block in the liveness window */
export const MISSED_PREFIX = Uint8Array.of(0x08)

const MAX_U64 = (1n << 64n) - 1n

export const validatorKey = (acct: Uint8Array) => Buffer.concat([VALIDATOR_PREFIX, acct])
export const consKey = (cons: Uint8Array) => Buffer.concat([CONS_PREFIX, cons])
export const powerKey = (power: bigint, acct: Uint8Array) => Buffer.concat([POWER_PREFIX, u64be(MAX_U64 - power), acct])
export const unbondingPrefix = (acct: Uint8Array) => Buffer.concat([UNBONDING_PREFIX, acct])
export const unbondingKey = (acct: Uint8Array, creationHeight: bigint) => Buffer.concat([UNBONDING_PREFIX, acct, u64be(creationHeight)])
export const queueKey = (completion: bigint, acct: Uint8Array, creationHeight: bigint) =>
  Buffer.concat([UNBONDING_QUEUE_PREFIX, u64be(completion), acct, u64be(creationHeight)])
export const signingInfoKey = (cons: Uint8Array) => Buffer.concat([SIGNING_INFO_PREFIX, cons])
export const missedPrefix = (cons: Uint8Array) => Buffer.concat([MISSED_PREFIX, cons])
export const missedKey = (cons: Uint8Array, index: bigint) => Buffer.concat([MISSED_PREFIX, cons, u64be(index)])
