import type { Module } from '../chain/module.ts'
import type { AnteKeepers } from '../chain/tx/ante.ts'
import { AuthKeeper, authModule } from './auth/index.ts'
import { BankKeeper, bankModule } from './bank/index.ts'
import { QosKeeper, qosModule } from './qos/index.ts'
import { StakingKeeper, stakingModule } from './staking/index.ts'
import { TaskKeeper, taskModule } from './task/index.ts'
import { ValidatorKeeper, validatorModule } from './validator/index.ts'
import { VssKeeper, vssModule } from './vss/index.ts'

export { DENOM } from './common/amounts.ts'
export { BECH32_PREFIX } from './auth/index.ts'

export interface BerylModules {
  modules: Module[]
  ante: AnteKeepers
  keepers: { auth: AuthKeeper; bank: BankKeeper; validator: ValidatorKeeper; staking: StakingKeeper; qos: QosKeeper; vss: VssKeeper; task: TaskKeeper }
}

/**
 * Wires Beryl's modules: their keepers, the hooks between them (all of them, here), and the order
 * of genesis and block hooks. `vrfSecretKey`: the node's ECVRF key for its vote extensions (a validator
 * node's `config/vrf_key.json`; tools that never vote leave it out).
 */
export function berylModules(opts: { vrfSecretKey?: Uint8Array } = {}): BerylModules {
  const auth = new AuthKeeper()
  const bank = new BankKeeper(auth)
  const ante: AnteKeepers = {
    authParams: (ctx) => auth.authParams(ctx),
    getAccount: (ctx, a) => auth.getAccount(ctx, a),
    setAccount: (ctx, a) => auth.setAccount(ctx, { ...auth.getAccount(ctx, a.address), ...a }),
    deductFee: (ctx, payer, fee) => bank.deductFee(ctx, payer, fee),
  }
  const validator = new ValidatorKeeper(bank)
  const staking = new StakingKeeper(bank)
  const qos = new QosKeeper(staking)
  const vss = new VssKeeper(staking)
  const task = new TaskKeeper(bank, staking, qos, vss, validator)

  // staking → qos: a node that leaves (unbonded, slashed, kicked out) takes its QoS record with it.
  staking.onNodeChange((ctx, before, after) => {
    if (before && !after) qos.forget(ctx, before.address)
  })
  // staking → task: every node change moves the dispatch index.
  staking.onNodeChange((ctx, before, after) => task.onNodeChange(ctx, before, after))
  // qos → task: a node's QoS or exclusion sets its dispatch weight.
  qos.onQosChange((ctx, address) => task.onQosChange(ctx, address))
  // task → staking: a stake that backs unjudged answers does not leave (docs/decisions/0024).
  staking.stakeBacksUnjudged = (ctx, address) => task.holdsUnjudgedAnswers(ctx, address)
  // task → vss: the SamplingRate query sizes the network as task creation does.
  // validator → vss: the VRF key a validator registered, for its vote extensions (the chain seed).
  vss.vrfKeyOf = (ctx, cons) => validator.getByConsensusAddress(ctx, cons)?.vrfPubkey
  vss.consensusKeyOf = (ctx, cons) => validator.getByConsensusAddress(ctx, cons)?.consensusPubkey
  vss.localVrfKey = opts.vrfSecretKey
  vss.countEligible = (ctx, modelId) => task.eligibleCount(ctx, { modelIds: [modelId], minVramGb: 0, requiredGpu: '', taskVersion: '' })

  return {
    // Genesis and block hooks run in this order: gentxs bond genesis balances (after bank); the
    // fees of the last block are paid out before this block's; unbonded stakes return and
    // recovered nodes come back before dispatch; nodes exist before their QoS records and tasks.
    modules: [
      authModule(auth),
      bankModule(bank, auth),
      validatorModule(validator),
      stakingModule(staking),
      qosModule(qos),
      vssModule(vss, staking),
      taskModule(task),
    ],
    ante,
    keepers: { auth, bank, validator, staking, qos, vss, task },
  }
}
