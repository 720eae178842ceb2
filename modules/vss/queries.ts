import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import {
  QueryParamsResponse,
  QuerySamplingRateRequest,
  QuerySamplingRateResponse,
  QuerySeedRequest,
  QuerySeedResponse,
} from '../../proto/gen/beryl/vss/v1/query.ts'
import type { StakingKeeper } from '../staking/index.ts'
import type { VssKeeper } from './keeper.ts'
import { SamplingError, attackerGainFraction, attackerSeatFraction, attackerSeatProbability, dishonestNodeCount, maxSecurableFee } from './sampling.ts'

/** beryl.vss.v1.Query: the rate a fee would get now, the parameters, and the chain seed of a height. */
export function vssQueries(keeper: VssKeeper, staking: StakingKeeper): QueryRoute[] {
  return [
    {
      path: '/beryl.vss.v1.Query/SamplingRate',
      async handle(ctx, data) {
        const req = decodeQueryRequest(QuerySamplingRateRequest.decode, data)
        if (!/^\d{1,40}$/.test(req.fee) || BigInt(req.fee) === 0n) throw SdkErrors.InvalidRequest.with('fee must be a positive whole number of uberyl')
        if (req.modelId && !/^[0-9a-f]{64}$/.test(req.modelId)) throw SdkErrors.InvalidRequest.with('model_id must be 64 hex digits')
        const eligible = req.modelId ? await keeper.countEligible(ctx, req.modelId) : staking.availableCount(ctx)
        const base = { eligibleNodes: eligible, rate: '', attackerSeatProbability: '', expectedProfit: '', dishonestNodes: 0n, error: '', maxSecurableFee: '' }
        try {
          const r = keeper.rate(ctx, BigInt(req.fee), eligible)
          return QuerySamplingRateResponse.encode({
            ...base,
            rate: r.rate.toString(),
            attackerSeatProbability: r.q.toString(),
            expectedProfit: r.expectedProfit.toString(),
            dishonestNodes: r.dishonestNodes,
            maxSecurableFee: r.maxSecurableFee === null ? '' : r.maxSecurableFee.toString(),
          }).finish()
        } catch (err) {
          if (!(err instanceof SamplingError)) throw err
          let q = '',
            max = ''
          if (eligible >= 3n) {
            const d = dishonestNodeCount(eligible, BigInt(keeper.params(ctx).assumedDishonestShare))
            q = attackerSeatProbability(eligible, d).toString()
            const gain = attackerGainFraction(eligible, d, !keeper.params(ctx).splitGroupFee)
            max = maxSecurableFee(BigInt(staking.params(ctx).minStake), attackerSeatFraction(eligible, d), gain)?.toString() ?? ''
          }
          return QuerySamplingRateResponse.encode({ ...base, attackerSeatProbability: q, error: err.message, maxSecurableFee: max }).finish()
        }
      },
    },
    {
      path: '/beryl.vss.v1.Query/Seed',
      handle(ctx, data) {
        const req = decodeQueryRequest(QuerySeedRequest.decode, data)
        if (req.height < 0n) throw SdkErrors.InvalidRequest.with('height must not be negative')
        const seed = req.height === 0n ? keeper.latestSeed(ctx) : keeper.seedAt(ctx, req.height)
        if (!seed) throw SdkErrors.NotFound.with(`no chain seed at height ${req.height} (only the last 100000 heights are kept)`)
        return QuerySeedResponse.encode({ seed }).finish()
      },
    },
    {
      path: '/beryl.vss.v1.Query/Params',
      handle(ctx) {
        return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish()
      },
    },
  ]
}
