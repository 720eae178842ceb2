import { PubKey as Ed25519PubKey } from 'cosmjs-types/cosmos/crypto/ed25519/keys'
import {
  QueryCommunityPoolResponse,
  QueryDelegationRewardsRequest,
  QueryDelegationRewardsResponse,
  QueryDelegationTotalRewardsRequest,
  QueryDelegationTotalRewardsResponse,
  QueryValidatorOutstandingRewardsRequest,
  QueryValidatorOutstandingRewardsResponse,
} from 'cosmjs-types/cosmos/distribution/v1beta1/query'
import {
  QueryValidatorRequest as CosmosValidatorRequest,
  QueryValidatorResponse as CosmosValidatorResponse,
  QueryValidatorsRequest as CosmosValidatorsRequest,
  QueryValidatorsResponse as CosmosValidatorsResponse,
} from 'cosmjs-types/cosmos/staking/v1beta1/query'
import { BondStatus, bondStatusToJSON, type Validator as CosmosValidator } from 'cosmjs-types/cosmos/staking/v1beta1/staking'
import type { QueryContext } from '../../chain/context.ts'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import {
  QueryActiveSetResponse,
  QueryParamsResponse,
  QueryPoolsResponse,
  QueryRewardsRequest,
  QueryRewardsResponse,
  QueryValidatorRequest,
  QueryValidatorResponse,
  QueryValidatorsRequest,
  QueryValidatorsResponse,
} from '../../proto/gen/beryl/validator/v1/query.ts'
import type { Validator } from '../../proto/gen/beryl/validator/v1/types.ts'
import { DENOM } from '../common/amounts.ts'
import { powerOf } from './activeset.ts'
import type { ValidatorKeeper } from './keeper.ts'

const notFound = (what: string) => SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = ${what} not found`)
/** Cosmos' LegacyDec travels as the integer value × 10¹⁸. */
const dec = (n: bigint) => (n * 10n ** 18n).toString()
const decPpm = (ppm: number) => (BigInt(ppm) * 10n ** 12n).toString()

function mustFind(keeper: ValidatorKeeper, ctx: QueryContext, address: string): Validator {
  const v = keeper.getValidator(ctx, address)
  if (!v) throw notFound(`validator ${address}`)
  return v
}

/** A Beryl validator as `cosmos.staking.v1beta1.Validator` (self-bond only: shares = tokens). */
function toCosmos(keeper: ValidatorKeeper, ctx: QueryContext, v: Validator, active: Set<string>): CosmosValidator {
  const status = active.has(v.account) ? BondStatus.BOND_STATUS_BONDED : BondStatus.BOND_STATUS_UNBONDED
  return {
    operatorAddress: v.operatorAddress,
    consensusPubkey: { typeUrl: '/cosmos.crypto.ed25519.PubKey', value: Ed25519PubKey.encode({ key: v.consensusPubkey }).finish() },
    jailed: v.jailed,
    status,
    tokens: v.bonded,
    delegatorShares: dec(BigInt(v.bonded)),
    description: { moniker: v.moniker, identity: '', website: '', securityContact: '', details: v.details },
    unbondingHeight: 0n,
    unbondingTime: { seconds: v.jailedUntil, nanos: 0 },
    commission: { commissionRates: { rate: decPpm(v.commissionPpm), maxRate: dec(1n), maxChangeRate: dec(1n) }, updateTime: { seconds: 0n, nanos: 0 } },
    minSelfDelegation: keeper.params(ctx).minSelfBond,
    unbondingOnHoldRefCount: 0n,
    unbondingIds: [],
  }
}

const activeAccounts = (keeper: ValidatorKeeper, ctx: QueryContext) => new Set(keeper.activeSet(ctx).map((a) => a.account))

/** beryl.validator.v1.Query, and the Cosmos staking and distribution queries explorers and cosmjs call. */
export function validatorQueries(keeper: ValidatorKeeper): QueryRoute[] {
  const q = (m: string) => `/beryl.validator.v1.Query/${m}`
  return [
    {
      path: q('Validator'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryValidatorRequest.decode, data)
        const v = mustFind(keeper, ctx, req.address)
        return QueryValidatorResponse.encode({
          validator: v,
          power: powerOf(BigInt(v.bonded)),
          active: activeAccounts(keeper, ctx).has(v.account),
          signingInfo: keeper.signingInfo(ctx, v.consensusPubkey),
          unbonding: await keeper.unbondingEntries(ctx, v.account),
        }).finish()
      },
    },
    {
      path: q('Validators'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryValidatorsRequest.decode, data)
        const limit = req.limit === 0 ? 100 : req.limit
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('limit above 1000')
        return QueryValidatorsResponse.encode(await keeper.pageValidators(ctx, req.key, limit)).finish()
      },
    },
    {
      path: q('ActiveSet'),
      handle(ctx) {
        const validators = keeper.activeSet(ctx)
        return QueryActiveSetResponse.encode({ validators, totalPower: validators.reduce((a, v) => a + v.power, 0n) }).finish()
      },
    },
    {
      path: q('Rewards'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryRewardsRequest.decode, data)
        return QueryRewardsResponse.encode({ rewards: mustFind(keeper, ctx, req.address).rewards }).finish()
      },
    },
    {
      path: q('Pools'),
      handle(ctx) {
        const p = keeper.pools(ctx)
        return QueryPoolsResponse.encode({
          communityPool: p.communityPool.toString(),
          feeCollector: p.feeCollector.toString(),
          outstandingRewards: p.outstandingRewards.toString(),
          bonded: p.bonded.toString(),
        }).finish()
      },
    },
    {
      path: q('Params'),
      handle(ctx) {
        return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish()
      },
    },

    // ---- cosmos.staking.v1beta1 (what @cosmjs/stargate's setupStakingExtension and explorers read) ----
    {
      path: '/cosmos.staking.v1beta1.Query/Validators',
      async handle(ctx, data) {
        const req = decodeQueryRequest(CosmosValidatorsRequest.decode, data)
        const limit = Number(req.pagination?.limit || 100n)
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('page limit above 1000')
        const page = await keeper.pageValidators(ctx, req.pagination?.key ?? new Uint8Array(), limit)
        const active = activeAccounts(keeper, ctx)
        let validators = page.validators.map((v) => toCosmos(keeper, ctx, v, active))
        if (req.status) validators = validators.filter((v) => bondStatusToJSON(v.status) === req.status)
        return CosmosValidatorsResponse.encode({ validators, pagination: { nextKey: page.nextKey, total: 0n } }).finish()
      },
    },
    {
      path: '/cosmos.staking.v1beta1.Query/Validator',
      handle(ctx, data) {
        const req = decodeQueryRequest(CosmosValidatorRequest.decode, data)
        return CosmosValidatorResponse.encode({
          validator: toCosmos(keeper, ctx, mustFind(keeper, ctx, req.validatorAddr), activeAccounts(keeper, ctx)),
        }).finish()
      },
    },

    // ---- cosmos.distribution.v1beta1: a validator's rewards are its operator's (self-bond only) ----
    {
      path: '/cosmos.distribution.v1beta1.Query/DelegationRewards',
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryDelegationRewardsRequest.decode, data)
        const v = mustFind(keeper, ctx, req.validatorAddress)
        if (req.delegatorAddress !== v.account) throw notFound(`delegation of ${req.delegatorAddress} to ${req.validatorAddress}`)
        return QueryDelegationRewardsResponse.encode({ rewards: [{ denom: DENOM, amount: dec(BigInt(v.rewards)) }] }).finish()
      },
    },
    {
      path: '/cosmos.distribution.v1beta1.Query/DelegationTotalRewards',
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryDelegationTotalRewardsRequest.decode, data)
        const v = keeper.getValidator(ctx, req.delegatorAddress)
        const total = v ? BigInt(v.rewards) : 0n
        return QueryDelegationTotalRewardsResponse.encode({
          rewards: v ? [{ validatorAddress: v.operatorAddress, reward: [{ denom: DENOM, amount: dec(total) }] }] : [],
          total: [{ denom: DENOM, amount: dec(total) }],
        }).finish()
      },
    },
    {
      path: '/cosmos.distribution.v1beta1.Query/ValidatorOutstandingRewards',
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryValidatorOutstandingRewardsRequest.decode, data)
        const v = mustFind(keeper, ctx, req.validatorAddress)
        return QueryValidatorOutstandingRewardsResponse.encode({ rewards: { rewards: [{ denom: DENOM, amount: dec(BigInt(v.rewards)) }] } }).finish()
      },
    },
    {
      path: '/cosmos.distribution.v1beta1.Query/CommunityPool',
      handle(ctx) {
        return QueryCommunityPoolResponse.encode({ pool: [{ denom: DENOM, amount: dec(keeper.pools(ctx).communityPool) }] }).finish()
      },
    },
  ]
}
