import type { Module } from '../chain/module.ts'
import type { AnteKeepers } from '../chain/tx/ante.ts'
import { AuthKeeper, authModule } from './auth/index.ts'
import { BankKeeper, bankModule } from './bank/index.ts'
import { StakingKeeper, stakingModule } from './staking/index.ts'
import { QosKeeper, qosModule } from './qos/index.ts'
import { TaskKeeper, taskModule } from './task/index.ts'
import { vssModule } from './vss/index.ts'

export { DENOM } from './denom.ts'
export { BECH32_PREFIX } from './auth/index.ts'

export interface BerylModules {
  modules: Module[]
  ante: AnteKeepers
  keepers: { auth: AuthKeeper; bank: BankKeeper; staking: StakingKeeper; qos: QosKeeper; task: TaskKeeper }
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
  const staking = new StakingKeeper(bank)
  const qos = new QosKeeper(staking)
  const task = new TaskKeeper(bank, staking, qos)
  return {
    // Block hooks run in this order: unbonded stakes return and recovered nodes come back before dispatch.
    modules: [authModule(auth), bankModule(bank, auth), stakingModule(staking), qosModule(qos), taskModule(task), vssModule(staking, task)],
    ante,
    keepers: { auth, bank, staking, qos, task },
  }
}
