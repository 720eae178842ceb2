import { Params } from '../../proto/gen/beryl/validator/v1/types.ts'
import { UBERYL_PER_BERYL, parseAmount } from '../common/amounts.ts'
import { ValidatorErrors } from './errors.ts'

/** The module account holding bonds and unbonding stake. */
export const BONDED_POOL = 'validator'
/** The module account holding validators' rewards until they withdraw them. */
export const DISTRIBUTION_POOL = 'distribution'

/** One unit of consensus power per BERYL bonded, as Cosmos' DefaultPowerReduction. */
export const POWER_REDUCTION = UBERYL_PER_BERYL
export const PPM = 1_000_000n

export const DEFAULT_PARAMS: Params = {
  maxValidators: 50,
  minSelfBond: (1000n * UBERYL_PER_BERYL).toString(),
  unbondingPeriod: 3n * 24n * 3600n,
  doubleSignSlashPpm: 50_000, // 5%
  downtimeSlashPpm: 100, // 0.01%
  signedBlocksWindow: 100n,
  maxMissedPpm: 500_000, // missing more than half of the last 100 blocks jails
  downtimeJailSeconds: 600n,
  maxUnbondingEntries: 7,
}

/** Genesis checks, with the limits that keep per-block work bounded. */
export function validateParams(p: Params): void {
  if (p.maxValidators < 1 || p.maxValidators > 150) throw new Error('validator.params.max_validators must be 1..150')
  parseAmount(p.minSelfBond, 'validator.params.min_self_bond', ValidatorErrors.InvalidAmount)
  if (BigInt(p.minSelfBond) < POWER_REDUCTION) throw new Error(`validator.params.min_self_bond must be at least ${POWER_REDUCTION} (one unit of power)`)
  if (p.unbondingPeriod < 0n) throw new Error('validator.params.unbonding_period must not be negative')
  if (p.doubleSignSlashPpm > 1_000_000 || p.downtimeSlashPpm > 1_000_000) throw new Error('validator.params slash fractions must be at most 1000000 ppm')
  if (p.signedBlocksWindow < 1n || p.signedBlocksWindow > 10_000n) throw new Error('validator.params.signed_blocks_window must be 1..10000')
  if (p.maxMissedPpm > 1_000_000) throw new Error('validator.params.max_missed_ppm must be at most 1000000')
  if (p.downtimeJailSeconds < 0n) throw new Error('validator.params.downtime_jail_seconds must not be negative')
  if (p.maxUnbondingEntries < 1 || p.maxUnbondingEntries > 100) throw new Error('validator.params.max_unbonding_entries must be 1..100')
}
