import type { ErrorKind } from '../../chain/errors.ts'

/** The staking and fee denomination: 1 BERYL = 1 000 000 uberyl. */
export const DENOM = 'uberyl'
export const UBERYL_PER_BERYL = 1_000_000n

/** 1.0 in 18-decimal fixed point (Cosmos' Dec): rates, shares, probabilities, QoS and health. */
export const SCALE = 10n ** 18n

/** A positive whole number of uberyl written in decimal; `kind` is the calling module's error. */
export function parseAmount(s: string, what: string, kind: ErrorKind): bigint {
  if (!/^\d{1,40}$/.test(s)) throw kind.with(`${what} must be a whole number of uberyl, got ${JSON.stringify(s)}`)
  const v = BigInt(s)
  if (v <= 0n) throw kind.with(`${what} must be positive`)
  return v
}
