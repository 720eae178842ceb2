import type { Module } from '../../chain/module.ts'
import { MODULE } from './errors.ts'
import { exportTaskGenesis, initTaskGenesis } from './genesis.ts'
import type { TaskKeeper } from './keeper.ts'
import { taskMsgs } from './msgs.ts'
import { taskQueries } from './queries.ts'

export { TaskKeeper, estimateSeconds, priority } from './keeper.ts'
export { TaskErrors } from './errors.ts'
export { DEFAULT_PARAMS as DEFAULT_TASK_PARAMS } from './params.ts'
export { nodeMeets, type Requirements } from './dispatch.ts'
export { validateImageArgs, type ImageArgs } from './schema.ts'
export { isTerminal } from './validation.ts'
export { Task, TaskStatus, TaskType, AbortReason } from '../../proto/gen/beryl/task/v1/types.ts'

/** task: the task lifecycle, dispatch, validation groups, settlement. */
export function taskModule(keeper: TaskKeeper): Module {
  return {
    name: MODULE,
    msgs: taskMsgs(keeper),
    queries: taskQueries(keeper),
    initGenesis: (ctx, state) => initTaskGenesis(keeper, ctx, state),
    exportGenesis: (ctx) => exportTaskGenesis(keeper, ctx),
    endBlock: (ctx) => keeper.endBlock(ctx),
  }
}
