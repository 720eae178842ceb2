import type { Module } from '../chain/module.ts'
import type { AnteKeepers } from '../chain/tx/ante.ts'
import { AuthKeeper, authModule } from './auth/index.ts'
import { BankKeeper, bankModule } from './bank/index.ts'

export const DENOM = 'uberyl'
export { BECH32_PREFIX } from './auth/index.ts'

export interface BerylModules {
  modules: Module[]
  ante: AnteKeepers
  keepers: { auth: AuthKeeper; bank: BankKeeper }
}

/** Wires Beryl's modules and their keepers, in genesis and block-hook order. */
export function berylModules(): BerylModules {
  const auth = new AuthKeeper()
  const bank = new BankKeeper(auth)
  const ante: AnteKeepers = {
    authParams: (ctx) => auth.authParams(ctx),
    getAccount: (ctx, a) => auth.getAccount(ctx, a),
    setAccount: (ctx, a) => auth.setAccount(ctx, { ...auth.getAccount(ctx, a.address), ...a }),
    deductFee: (ctx, payer, fee) => bank.deductFee(ctx, payer, fee),
  }
  return { modules: [authModule(auth), bankModule(bank, auth)], ante, keepers: { auth, bank } }
}
