import type { ActiveValidator } from '../../proto/gen/beryl/validator/v1/types.ts'
import { POWER_REDUCTION } from './params.ts'

/**
 * The active set and what CometBFT must be told about it.
 *
 * | rule | value |
 * |---|---|
 * | power | ⌊bonded / 10⁶⌋ (one per BERYL) |
 * | eligible | not jailed, not tombstoned, bonded ≥ min_self_bond |
 * | active | the first `max_validators` eligible by power, ties by account bytes (the power index order) |
 * | update | a member whose power changed or who is new: (key, power); a member who left: (key, 0) |
 * | empty | a new set with no member is never sent (CometBFT halts on an empty set): the old one stays |
 */
export function powerOf(bonded: bigint): bigint {
  return bonded / POWER_REDUCTION
}

export interface SetUpdate {
  consensusPubkey: Uint8Array
  power: bigint
  account: string
}

/** The updates that turn `before` into `after`, in account order (deterministic). */
export function setUpdates(before: ActiveValidator[], after: ActiveValidator[]): SetUpdate[] {
  const key = (v: ActiveValidator) => Buffer.from(v.consensusPubkey).toString('hex')
  const old = new Map(before.map((v) => [key(v), v]))
  const next = new Map(after.map((v) => [key(v), v]))
  const out: SetUpdate[] = []
  for (const v of after) {
    const o = old.get(key(v))
    if (!o || o.power !== v.power) out.push({ consensusPubkey: v.consensusPubkey, power: v.power, account: v.account })
  }
  for (const v of before) if (!next.has(key(v))) out.push({ consensusPubkey: v.consensusPubkey, power: 0n, account: v.account })
  return out.sort((a, b) =>
    a.account < b.account ? -1 : a.account > b.account ? 1 : Buffer.compare(Buffer.from(a.consensusPubkey), Buffer.from(b.consensusPubkey)),
  )
}
