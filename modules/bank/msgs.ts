import { MsgSend, MsgSendResponse } from 'cosmjs-types/cosmos/bank/v1beta1/tx'
import type { MsgRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { BECH32_PREFIX, type AuthKeeper } from '../auth/index.ts'
import { BankErrors } from './errors.ts'
import { type BankKeeper, validateCoins } from './keeper.ts'

export function bankMsgs(keeper: BankKeeper, auth: AuthKeeper): MsgRoute[] {
  const send: MsgRoute<MsgSend> = {
    typeUrl: '/cosmos.bank.v1beta1.MsgSend',
    type: MsgSend,
    signers: (m) => [m.fromAddress],
    validate(m) {
      checkAddress(m.fromAddress, BECH32_PREFIX)
      checkAddress(m.toAddress, BECH32_PREFIX)
      validateCoins(m.amount)
    },
    handle(ctx, m) {
      if (auth.isModuleAccount(ctx, m.toAddress)) throw BankErrors.BlockedAddress.with(`${m.toAddress} is a module account`)
      keeper.send(ctx, m.fromAddress, m.toAddress, validateCoins(m.amount))
      return { typeUrl: '/cosmos.bank.v1beta1.MsgSendResponse', value: MsgSendResponse.encode({}).finish() }
    },
  }
  return [send]
}
