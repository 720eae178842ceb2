import { Params } from '../../proto/gen/beryl/staking/v1/types.ts'
import { UBERYL_PER_BERYL, parseAmount } from '../common/amounts.ts'
import { StakingErrors } from './errors.ts'

export const DEFAULT_PARAMS: Params = {
  minStake: (400n * UBERYL_PER_BERYL).toString(),
  maxStake: (4000n * UBERYL_PER_BERYL).toString(),
  unbondingPeriod: 1800n,
  slashFractionPpm: 1_000_000,
}

/** Genesis checks: amounts are positive uberyl, the period not negative, the fraction at most 100%. */
export function validateParams(p: Params): void {
  parseAmount(p.minStake, 'staking.params.min_stake', StakingErrors.InvalidAmount)
  parseAmount(p.maxStake, 'staking.params.max_stake', StakingErrors.InvalidAmount)
  if (p.unbondingPeriod < 0n) throw new Error('staking.params.unbonding_period must not be negative')
  if (p.slashFractionPpm > 1_000_000) throw new Error('staking.params.slash_fraction_ppm must be at most 1000000')
}
