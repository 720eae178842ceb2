import { MsgSend, MsgSendResponse } from 'cosmjs-types/cosmos/bank/v1beta1/tx'
import {
  QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
  QueryParamsResponse, QuerySpendableBalancesRequest, QuerySpendableBalancesResponse,
  QuerySupplyOfRequest, QuerySupplyOfResponse, QueryTotalSupplyRequest, QueryTotalSupplyResponse,
} from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin'
import type { Context } from '../../chain/context.ts'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type Module, type MsgRoute, type QueryRoute } from '../../chain/module.ts'
import { paginate } from '../../chain/pagination.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { BECH32_PREFIX, type AuthKeeper } from '../auth/index.ts'
import { BankErrors, BankKeeper, MODULE, SUPPLY_PREFIX, balancePrefix, validateCoins } from './keeper.ts'

export { BankKeeper, FEE_COLLECTOR, validateCoins, formatCoins } from './keeper.ts'

export interface BankGenesis {
  balances?: Array<{ address: string; coins: Coin[] }>
}

const path = (m: string) => `/cosmos.bank.v1beta1.Query/${m}`


export function bankModule(keeper: BankKeeper, auth: AuthKeeper): Module {
  const send: MsgRoute<MsgSend> = {
    typeUrl: '/cosmos.bank.v1beta1.MsgSend',
    type: MsgSend,
    signers: (m) => [m.fromAddress],
    validate(m) {
      checkAddress(m.fromAddress, BECH32_PREFIX)
      checkAddress(m.toAddress, BECH32_PREFIX)
      validateCoins(m.amount)
    },
    handle(ctx: Context, m) {
      if (auth.isModuleAccount(ctx, m.toAddress)) throw BankErrors.BlockedAddress.with(`${m.toAddress} is a module account`)
      keeper.send(ctx, m.fromAddress, m.toAddress, validateCoins(m.amount))
      return { typeUrl: '/cosmos.bank.v1beta1.MsgSendResponse', value: MsgSendResponse.encode({}).finish() }
    },
  }

  const balances = async (ctx: Parameters<QueryRoute['handle']>[0], address: string, page: QueryAllBalancesRequest['pagination']) => {
    if (!address) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = empty address string is not allowed')
    const addr = checkAddress(address, BECH32_PREFIX)
    return paginate(ctx.kv(MODULE), balancePrefix(addr), page, (k, v) => ({ denom: Buffer.from(k).toString('utf8'), amount: Buffer.from(v).toString('ascii') }))
  }

  const queries: QueryRoute[] = [
    {
      path: path('Balance'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryBalanceRequest.decode, data)
        if (!req.address) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = empty address string is not allowed')
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
        const { items, pagination } = await paginate(ctx.kv(MODULE), SUPPLY_PREFIX, req.pagination, (k, v) => ({ denom: Buffer.from(k).toString('utf8'), amount: Buffer.from(v).toString('ascii') }))
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
      handle() { return QueryParamsResponse.encode({ params: { sendEnabled: [], defaultSendEnabled: true } }).finish() },
    },
  ]

  return {
    name: MODULE,
    msgs: [send],
    queries,
    initGenesis(ctx: Context, state: unknown) {
      const g = (state ?? {}) as BankGenesis
      const sorted = [...(g.balances ?? [])].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
      for (const b of sorted) {
        checkAddress(b.address, BECH32_PREFIX)
        keeper.initBalance(ctx, b.address, validateCoins(b.coins, `genesis balance of ${b.address}`))
      }
    },
  }
}

