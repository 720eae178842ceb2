import type { Module } from '../../chain/module.ts'
import { MODULE } from './errors.ts'
import { exportAuthGenesis, initAuthGenesis } from './genesis.ts'
import type { AuthKeeper } from './keeper.ts'
import { authMsgs } from './msgs.ts'
import { authQueries } from './queries.ts'

export { AuthKeeper, moduleAddress } from './keeper.ts'
export type { StoredAccount } from './keeper.ts'
export { BECH32_PREFIX } from './params.ts'
export type { AuthGenesis } from './genesis.ts'

/** auth: accounts, their numbers, sequences and keys; module accounts. */
export function authModule(keeper: AuthKeeper): Module {
  return {
    name: MODULE,
    msgs: authMsgs,
    queries: authQueries(keeper),
    initGenesis: (ctx, state) => initAuthGenesis(keeper, ctx, state),
    exportGenesis: (ctx) => exportAuthGenesis(keeper, ctx),
  }
}
