import {
  QueryAccountRequest, QueryAccountResponse, QueryAccountsRequest, QueryAccountsResponse,
  Bech32PrefixResponse, QueryModuleAccountByNameRequest, QueryModuleAccountByNameResponse,
  QueryParamsResponse,
} from 'cosmjs-types/cosmos/auth/v1beta1/query'
import { Any } from 'cosmjs-types/google/protobuf/any'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import type { Context } from '../../chain/context.ts'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type Module, type QueryRoute } from '../../chain/module.ts'
import { paginate } from '../../chain/pagination.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { ACCOUNT_PREFIX, AuthKeeper, BECH32_PREFIX, DEFAULT_PARAMS, MODULE, encodeAccount, moduleAddress } from './keeper.ts'

export { AuthKeeper, BECH32_PREFIX, moduleAddress, DEFAULT_PARAMS as DEFAULT_AUTH_PARAMS } from './keeper.ts'
export type { StoredAccount } from './keeper.ts'

export interface AuthGenesis {
  params?: { max_memo_characters?: string; tx_sig_limit?: string; tx_size_cost_per_byte?: string; sig_verify_cost_secp256k1?: string }
  accounts?: Array<{ address: string }>
}

const path = (m: string) => `/cosmos.auth.v1beta1.Query/${m}`

/** Queries answer gRPC NotFound the way cosmjs and the SDK expect ("rpc error: code = NotFound …: key not found"). */
function notFound(what: string) {
  return SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = ${what} not found`)
}


export function authModule(keeper: AuthKeeper): Module {
  const queries: QueryRoute[] = [
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
        const { items, pagination } = await paginate(ctx.kv(MODULE), ACCOUNT_PREFIX, req.pagination, (_k, v) => Any.decode(v))
        return QueryAccountsResponse.encode({ accounts: items, pagination }).finish()
      },
    },
    {
      path: path('Params'),
      handle(ctx) { return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish() },
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
      handle() { return Bech32PrefixResponse.encode({ bech32Prefix: BECH32_PREFIX }).finish() },
    },
  ]
  return {
    name: MODULE,
    queries,
    initGenesis(ctx: Context, state: unknown) {
      const g = (state ?? {}) as AuthGenesis
      const p = g.params ?? {}
      const num = (v: string | undefined, d: bigint, name: string) => {
        if (v === undefined) return d
        if (!/^\d+$/.test(String(v))) throw new Error(`auth.params.${name} must be an unsigned integer string`)
        return BigInt(v)
      }
      keeper.setParams(ctx, {
        maxMemoCharacters: num(p.max_memo_characters, DEFAULT_PARAMS.maxMemoCharacters, 'max_memo_characters'),
        txSigLimit: num(p.tx_sig_limit, DEFAULT_PARAMS.txSigLimit, 'tx_sig_limit'),
        txSizeCostPerByte: num(p.tx_size_cost_per_byte, DEFAULT_PARAMS.txSizeCostPerByte, 'tx_size_cost_per_byte'),
        sigVerifyCostEd25519: DEFAULT_PARAMS.sigVerifyCostEd25519,
        sigVerifyCostSecp256k1: num(p.sig_verify_cost_secp256k1, DEFAULT_PARAMS.sigVerifyCostSecp256k1, 'sig_verify_cost_secp256k1'),
      })
      // Account numbers follow address order, so every validator assigns the same ones.
      const addrs = [...new Set((g.accounts ?? []).map((a) => a.address))].sort()
      for (const a of addrs) {
        checkAddress(a, BECH32_PREFIX)
        decodeBech32(a)
        keeper.ensureAccount(ctx, a)
      }
    },
  }
}
