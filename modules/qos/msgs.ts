import type { MsgRoute } from '../../chain/module.ts'

/** qos has no messages: scores, timeouts and successes come from the task module's outcomes. */
export const qosMsgs: MsgRoute[] = []
