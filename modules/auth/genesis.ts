import type { Context, QueryContext } from '../../chain/context.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import type { AuthKeeper, StoredAccount } from './keeper.ts'
import { BECH32_PREFIX, type GenesisParams, paramsFromGenesis, paramsToGenesis } from './params.ts'

/**
 * `app_state.auth`. An account given by address alone is created with the next account number, in
 * address order (so every validator assigns the same ones); an exported account keeps its number,
 * sequence, public key (base64 compressed secp256k1) and, for a module account, its name.
 */
export interface AuthGenesis {
  params?: GenesisParams
  accounts?: Array<{ address: string; account_number?: string; sequence?: string; pub_key?: string; module_name?: string; permissions?: string[] }>
}

export function initAuthGenesis(keeper: AuthKeeper, ctx: Context, state: unknown): void {
  const g = (state ?? {}) as AuthGenesis
  for (const k of Object.keys(g)) if (k !== 'params' && k !== 'accounts') throw new Error(`auth: unknown genesis field ${JSON.stringify(k)}`)
  keeper.setParams(ctx, paramsFromGenesis(g.params))
  const accounts = g.accounts ?? []
  for (const a of accounts) checkAddress(a.address, BECH32_PREFIX)
  // Exported accounts first (their numbers are fixed), then the new ones in address order.
  for (const a of accounts.filter((x) => x.account_number !== undefined)) {
    if (!/^\d+$/.test(a.account_number!) || !/^\d+$/.test(a.sequence ?? '0'))
      throw new Error(`auth genesis: account ${a.address}: account_number and sequence are unsigned integer strings`)
    const stored: StoredAccount = { address: a.address, accountNumber: BigInt(a.account_number!), sequence: BigInt(a.sequence ?? '0') }
    if (a.pub_key) stored.pubKey = new Uint8Array(Buffer.from(a.pub_key, 'base64'))
    if (a.module_name !== undefined) {
      stored.moduleName = a.module_name
      stored.permissions = a.permissions ?? []
    }
    keeper.importAccount(ctx, stored)
  }
  const fresh = [...new Set(accounts.filter((x) => x.account_number === undefined).map((a) => a.address))].sort()
  for (const address of fresh) keeper.ensureAccount(ctx, address)
}

export async function exportAuthGenesis(keeper: AuthKeeper, ctx: QueryContext): Promise<AuthGenesis> {
  const accounts = (await keeper.allAccounts(ctx)).map((a) => ({
    address: a.address,
    account_number: a.accountNumber.toString(),
    sequence: a.sequence.toString(),
    ...(a.pubKey ? { pub_key: Buffer.from(a.pubKey).toString('base64') } : {}),
    ...(a.moduleName !== undefined ? { module_name: a.moduleName, permissions: a.permissions ?? [] } : {}),
  }))
  return { params: paramsToGenesis(keeper.params(ctx)), accounts }
}
