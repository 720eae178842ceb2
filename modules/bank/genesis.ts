import { toBech32 } from '@cosmjs/encoding'
import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin'
import type { Context, QueryContext } from '../../chain/context.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { type BankKeeper, validateCoins } from './keeper.ts'

/** `app_state.bank`: every balance (module accounts' included); `supply`, when given, must equal their sum. */
export interface BankGenesis {
  balances?: Array<{ address: string; coins: Coin[] }>
  supply?: Coin[]
}

export function initBankGenesis(keeper: BankKeeper, ctx: Context, state: unknown): void {
  const g = (state ?? {}) as BankGenesis
  for (const k of Object.keys(g)) if (k !== 'balances' && k !== 'supply') throw new Error(`bank: unknown genesis field ${JSON.stringify(k)}`)
  const sorted = [...(g.balances ?? [])].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  for (const b of sorted) {
    checkAddress(b.address, BECH32_PREFIX)
    keeper.initBalance(ctx, b.address, validateCoins(b.coins, `genesis balance of ${b.address}`))
  }
  for (const c of g.supply ?? []) {
    const have = keeper.supply(ctx, c.denom)
    if (have.toString() !== c.amount) throw new Error(`bank genesis: supply of ${c.denom} is ${c.amount} but the balances add up to ${have}`)
  }
}

export async function exportBankGenesis(keeper: BankKeeper, ctx: QueryContext): Promise<BankGenesis> {
  const balances = (await keeper.balancesByAccount(ctx)).map((b) => ({ address: toBech32(BECH32_PREFIX, b.addr), coins: b.coins }))
  return { balances, supply: await keeper.allSupply(ctx) }
}
