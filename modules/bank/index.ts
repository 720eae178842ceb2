import type { Module } from '../../chain/module.ts'
import type { AuthKeeper } from '../auth/index.ts'
import { MODULE } from './errors.ts'
import { exportBankGenesis, initBankGenesis } from './genesis.ts'
import type { BankKeeper } from './keeper.ts'
import { bankMsgs } from './msgs.ts'
import { bankQueries } from './queries.ts'

export { BankKeeper, validateCoins, formatCoins } from './keeper.ts'
export { FEE_COLLECTOR } from './params.ts'
export type { BankGenesis } from './genesis.ts'

/** bank: balances and supply; MsgSend. */
export function bankModule(keeper: BankKeeper, auth: AuthKeeper): Module {
  return {
    name: MODULE,
    msgs: bankMsgs(keeper, auth),
    queries: bankQueries(keeper),
    initGenesis: (ctx, state) => initBankGenesis(keeper, ctx, state),
    exportGenesis: (ctx) => exportBankGenesis(keeper, ctx),
  }
}
