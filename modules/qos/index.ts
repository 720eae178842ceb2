import type { Module } from '../../chain/module.ts'
import { MODULE } from './errors.ts'
import { exportQosGenesis, initQosGenesis } from './genesis.ts'
import type { QosKeeper } from './keeper.ts'
import { qosMsgs } from './msgs.ts'
import { qosQueries } from './queries.ts'

export { QosKeeper } from './keeper.ts'
export type { QosHook } from './keeper.ts'
export { dispatchWeight, QOS_SCALE } from './math.ts'

/** qos: per-node task scores, health, exclusion from dispatch and kick-out. */
export function qosModule(keeper: QosKeeper): Module {
  return {
    name: MODULE,
    msgs: qosMsgs,
    queries: qosQueries(keeper),
    initGenesis: (ctx, state) => initQosGenesis(keeper, ctx, state),
    exportGenesis: (ctx) => exportQosGenesis(keeper, ctx),
    endBlock: (ctx) => keeper.reinclude(ctx),
  }
}
