import { registerError } from '../../chain/errors.ts'

export const MODULE = 'validator'

export const ValidatorErrors = {
  ValidatorExists: registerError(MODULE, 2, 'this account already runs a validator'),
  ValidatorNotFound: registerError(MODULE, 3, 'no validator for this account'),
  BondTooLow: registerError(MODULE, 4, 'self-bond below the minimum'),
  InvalidDescription: registerError(MODULE, 5, 'invalid validator description'),
  InvalidConsensusKey: registerError(MODULE, 6, 'invalid consensus key'),
  ConsensusKeyTaken: registerError(MODULE, 7, 'consensus key already used by another validator'),
  InvalidAmount: registerError(MODULE, 8, 'invalid amount'),
  InsufficientBond: registerError(MODULE, 9, 'not enough bonded stake'),
  TooManyUnbondings: registerError(MODULE, 10, 'too many unbonding entries; wait for one to complete'),
  NotJailed: registerError(MODULE, 11, 'validator is not jailed'),
  StillJailed: registerError(MODULE, 12, 'validator is still jailed'),
  Tombstoned: registerError(MODULE, 13, 'validator is tombstoned (double signed) and can never rejoin'),
  InvalidCommission: registerError(MODULE, 14, 'invalid commission'),
  InvalidGenTx: registerError(MODULE, 15, 'invalid genesis transaction'),
}
