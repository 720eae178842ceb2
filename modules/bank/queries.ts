import {
  QueryAllBalancesRequest,
  QueryAllBalancesResponse,
  QueryBalanceRequest,
  QueryBalanceResponse,
  QueryParamsResponse,
  QuerySpendableBalancesRequest,
  QuerySpendableBalancesResponse,
  QuerySupplyOfRequest,
  QuerySupplyOfResponse,
  QueryTotalSupplyRequest,
  QueryTotalSupplyResponse,
} from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { PageRequest } from 'cosmjs-types/cosmos/base/query/v1beta1/pagination'
import type { QueryContext } from '../../chain/context.ts'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import type { BankKeeper } from './keeper.ts'
import { PARAMS } from './params.ts'

const path = (m: string) => `/cosmos.bank.v1beta1.Query/${m}`
const emptyAddress = () => SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = empty address string is not allowed')

/** cosmos.bank.v1beta1.Query, as cosmjs' bank extension calls it. */
export function bankQueries(keeper: BankKeeper): QueryRoute[] {
  const balances = (ctx: QueryContext, address: string, page: PageRequest | undefined) => {
    if (!address) throw emptyAddress()
    return keeper.pageBalances(ctx, checkAddress(address, BECH32_PREFIX), page)
  }
  return [
    {
      path: path('Balance'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryBalanceRequest.decode, data)
        if (!req.address) throw emptyAddress()
        checkAddress(req.address, BECH32_PREFIX)
        if (!req.denom) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = invalid denom')
        // cosmjs requires a balance in the reply: an unknown account or denom is a zero balance.
        return QueryBalanceResponse.encode({ balance: { denom: req.denom, amount: keeper.balance(ctx, req.address, req.denom).toString() } }).finish()
      },
    },
    {
      path: path('AllBalances'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryAllBalancesRequest.decode, data)
        const { items, pagination } = await balances(ctx, req.address, req.pagination)
        return QueryAllBalancesResponse.encode({ balances: items, pagination }).finish()
      },
    },
    {
      path: path('SpendableBalances'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QuerySpendableBalancesRequest.decode, data)
        const { items, pagination } = await balances(ctx, req.address, req.pagination)
        return QuerySpendableBalancesResponse.encode({ balances: items, pagination }).finish()
      },
    },
    {
      path: path('TotalSupply'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryTotalSupplyRequest.decode, data)
        const { items, pagination } = await keeper.pageSupply(ctx, req.pagination)
        return QueryTotalSupplyResponse.encode({ supply: items, pagination }).finish()
      },
    },
    {
      path: path('SupplyOf'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QuerySupplyOfRequest.decode, data)
        return QuerySupplyOfResponse.encode({ amount: { denom: req.denom, amount: keeper.supply(ctx, req.denom).toString() } }).finish()
      },
    },
    {
      path: path('Params'),
      handle() {
        return QueryParamsResponse.encode({ params: PARAMS }).finish()
      },
    },
  ]
}
