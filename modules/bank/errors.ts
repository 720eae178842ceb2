import { registerError } from '../../chain/errors.ts'

export const MODULE = 'bank'

export const BankErrors = {
  SendDisabled: registerError(MODULE, 2, 'send transactions are disabled'),
  BlockedAddress: registerError(MODULE, 3, 'the address is not allowed to receive funds through bank sends'),
}
