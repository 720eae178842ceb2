import { Params } from '../../proto/gen/beryl/vss/v1/types.ts'
import { SCALE } from '../common/amounts.ts'
import { DEFAULT_DISHONEST_SHARE, DEFAULT_MIN_RATE } from './sampling.ts'

export const DEFAULT_PARAMS: Params = {
  minSamplingRate: DEFAULT_MIN_RATE.toString(),
  assumedDishonestShare: DEFAULT_DISHONEST_SHARE.toString(),
  // Each matching member of a validation group is paid its own fee (docs/decisions/0025).
  splitGroupFee: false,
}

/** The rates are 18-decimal fixed-point fractions in [0, 1]; split_group_fee is a boolean. */
export function validateParams(p: Params): void {
  if (typeof p.splitGroupFee !== 'boolean') throw new Error(`vss.params.split_group_fee must be true or false, got ${JSON.stringify(p.splitGroupFee)}`)
  for (const [name, v] of [
    ['min_sampling_rate', p.minSamplingRate],
    ['assumed_dishonest_share', p.assumedDishonestShare],
  ] as const) {
    if (!/^\d{1,19}$/.test(v) || BigInt(v) > SCALE)
      throw new Error(`vss.params.${name} must be an 18-decimal fixed-point fraction in [0, ${SCALE}], got ${JSON.stringify(v)}`)
  }
}
