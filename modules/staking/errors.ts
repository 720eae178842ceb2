import { registerError } from '../../chain/errors.ts'

export const MODULE = 'staking'

export const StakingErrors = {
  NodeExists: registerError(MODULE, 2, 'this account already runs a node'),
  NodeNotFound: registerError(MODULE, 3, 'no node for this account'),
  StakeTooLow: registerError(MODULE, 4, 'stake below the minimum'),
  InvalidNode: registerError(MODULE, 5, 'invalid node description'),
  WrongStatus: registerError(MODULE, 6, "not allowed in the node's current status"),
  InvalidAmount: registerError(MODULE, 7, 'invalid amount'),
  UnknownGpuClass: registerError(MODULE, 8, 'not a class of the GPU registry'),
  RejoinCooldown: registerError(MODULE, 9, 'a slashed account may not join again yet'),
}
