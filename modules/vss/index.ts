import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type Module } from '../../chain/module.ts'
import { QuerySamplingRateRequest, QuerySamplingRateResponse } from '../../proto/gen/beryl/vss/v1/query.ts'
import type { StakingKeeper } from '../staking/index.ts'
import type { TaskKeeper } from '../task/index.ts'
import { SamplingError, attackerSeatFraction, attackerSeatProbability, dishonestNodeCount, maxSecurableFee, samplingRate } from './sampling.ts'

export { ecvrfProve, ecvrfVerify, ecvrfPublicKey } from './ecvrf.ts'

/** `vss` holds no state: it answers what sampling rate a fee would get on the current network. */
export function vssModule(staking: StakingKeeper, task: TaskKeeper): Module {
  return {
    name: 'vss',
    queries: [{
      path: '/beryl.vss.v1.Query/SamplingRate',
      handle(ctx, data) {
        const req = decodeQueryRequest(QuerySamplingRateRequest.decode, data)
        if (!/^\d{1,40}$/.test(req.fee) || BigInt(req.fee) === 0n) throw SdkErrors.InvalidRequest.with('fee must be a positive whole number of uberyl')
        if (req.modelId && !/^[0-9a-f]{64}$/.test(req.modelId)) throw SdkErrors.InvalidRequest.with('model_id must be 64 hex digits')
        const eligible = req.modelId ? task.eligibleCount(ctx, [req.modelId]) : staking.availableCount(ctx)
        const tp = task.params(ctx)
        const share = BigInt(tp.assumedDishonestShare)
        const minStake = BigInt(staking.params(ctx).minStake)
        const base = { eligibleNodes: eligible, rate: '', attackerMajorityProbability: '', expectedProfit: '', dishonestNodes: 0n, error: '', maxSecurableFee: '' }
        try {
          const r = samplingRate({ fee: BigInt(req.fee), minStake, eligibleNodes: eligible, dishonestShare: share, minRate: BigInt(tp.minSamplingRate) })
          return QuerySamplingRateResponse.encode({
            ...base, rate: r.rate.toString(), attackerMajorityProbability: r.q.toString(), expectedProfit: r.expectedProfit.toString(),
            dishonestNodes: r.dishonestNodes, maxSecurableFee: r.maxSecurableFee === null ? '' : r.maxSecurableFee.toString(),
          }).finish()
        } catch (err) {
          if (!(err instanceof SamplingError)) throw err
          let p = '', max = ''
          if (eligible >= 3n) {
            const d = dishonestNodeCount(eligible, share)
            p = attackerSeatProbability(eligible, d).toString()
            max = maxSecurableFee(minStake, attackerSeatFraction(eligible, d))?.toString() ?? ''
          }
          return QuerySamplingRateResponse.encode({ ...base, attackerMajorityProbability: p, error: err.message, maxSecurableFee: max }).finish()
        }
      },
    }],
  }
}
