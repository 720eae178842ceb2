import type { Params } from 'cosmjs-types/cosmos/bank/v1beta1/bank'

/** bank has no settable parameters: sends are enabled for every denom (the SDK's defaults). */
export const PARAMS: Params = { sendEnabled: [], defaultSendEnabled: true }

/** The module account that collects transaction fees. */
export const FEE_COLLECTOR = 'fee_collector'
