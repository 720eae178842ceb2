import type { MsgRoute } from '../../chain/module.ts'

/** auth has no messages of its own: accounts change through the ante (sequences, keys) and bank (creation on receipt). */
export const authMsgs: MsgRoute[] = []
