import type { MsgRoute } from '../../chain/module.ts'

/** vss has no messages: creators prove sampling with MsgValidateTask, which the task module handles. */
export const vssMsgs: MsgRoute[] = []
