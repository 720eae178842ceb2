import {
  Bech32PrefixResponse,
  QueryAccountRequest,
  QueryAccountResponse,
  QueryAccountsRequest,
  QueryAccountsResponse,
  QueryModuleAccountByNameRequest,
  QueryModuleAccountByNameResponse,
  QueryParamsResponse,
} from 'cosmjs-types/cosmos/auth/v1beta1/query'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { notFound } from './errors.ts'
import { type AuthKeeper, encodeAccount, moduleAddress } from './keeper.ts'
import { BECH32_PREFIX } from './params.ts'

const path = (m: string) => `/cosmos.auth.v1beta1.Query/${m}`

/** cosmos.auth.v1beta1.Query, as cosmjs' auth extension calls it. */
export function authQueries(keeper: AuthKeeper): QueryRoute[] {
  return [
    {
      path: path('Account'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryAccountRequest.decode, data)
        if (!req.address) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = Address cannot be empty')
        checkAddress(req.address, BECH32_PREFIX)
        const acc = keeper.getAccount(ctx, req.address)
        if (!acc) throw notFound(`account ${req.address}`)
        return QueryAccountResponse.encode({ account: encodeAccount(acc) }).finish()
      },
    },
    {
      path: path('Accounts'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryAccountsRequest.decode, data)
        const { items, pagination } = await keeper.pageAccounts(ctx, req.pagination)
        return QueryAccountsResponse.encode({ accounts: items, pagination }).finish()
      },
    },
    {
      path: path('Params'),
      handle(ctx) {
        return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish()
      },
    },
    {
      path: path('ModuleAccountByName'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryModuleAccountByNameRequest.decode, data)
        const acc = keeper.getAccount(ctx, moduleAddress(req.name))
        if (!acc || acc.moduleName === undefined) throw notFound(`module account ${req.name}`)
        return QueryModuleAccountByNameResponse.encode({ account: encodeAccount(acc) }).finish()
      },
    },
    {
      path: path('Bech32Prefix'),
      handle() {
        return Bech32PrefixResponse.encode({ bech32Prefix: BECH32_PREFIX }).finish()
      },
    },
  ]
}
