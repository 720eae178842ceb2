import type { Module } from '../../chain/module.ts'
import { MODULE } from './errors.ts'
import { exportValidatorGenesis, initValidatorGenesis } from './genesis.ts'
import type { ValidatorKeeper } from './keeper.ts'
import { applyCreateValidator, validatorMsgs } from './msgs.ts'
import { validatorQueries } from './queries.ts'

export { ValidatorKeeper, VALOPER_PREFIX, consensusAddress } from './keeper.ts'
export { ValidatorErrors } from './errors.ts'
export { verifyGenTx, CREATE_VALIDATOR_URL } from './genesis.ts'
export { DEFAULT_PARAMS as DEFAULT_VALIDATOR_PARAMS, BONDED_POOL, DISTRIBUTION_POOL, POWER_REDUCTION } from './params.ts'
export { splitByPower } from './rewards.ts'
export { powerOf } from './activeset.ts'
export { Validator, ActiveValidator, Params as ValidatorParams } from '../../proto/gen/beryl/validator/v1/types.ts'

/**
 * validator: the bonded validator set CometBFT runs (bonds, jailing, double-sign and downtime
 * slashing) and fee distribution to it.
 */
export function validatorModule(keeper: ValidatorKeeper): Module {
  return {
    name: MODULE,
    msgs: validatorMsgs(keeper),
    queries: validatorQueries(keeper),
    initGenesis: (ctx, state) => initValidatorGenesis(keeper, ctx, state, (c, m) => applyCreateValidator(keeper, c, m)),
    exportGenesis: (ctx) => exportValidatorGenesis(keeper, ctx),
    beginBlock: (ctx, consensus) => keeper.beginBlock(ctx, consensus),
    endBlock: (ctx) => keeper.endBlock(ctx),
  }
}
