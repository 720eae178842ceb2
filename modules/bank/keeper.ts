import type { Coin } from 'cosmjs-types/cosmos/base/v1beta1/coin'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import type { Context, QueryContext } from '../../chain/context.ts'
import type { PageRequest } from 'cosmjs-types/cosmos/base/query/v1beta1/pagination'
import { ChainError, SdkErrors } from '../../chain/errors.ts'
import { event } from '../../chain/events.ts'
import { paginate } from '../../chain/pagination.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { moduleAddress, type AuthKeeper } from '../auth/index.ts'
import { MODULE } from './errors.ts'
import { BALANCE_PREFIX, SUPPLY_PREFIX, balanceKey, balancePrefix, supplyKey } from './keys.ts'
import { FEE_COLLECTOR } from './params.ts'

const MAX_AMOUNT = (1n << 256n) - 1n
const DENOM_RE = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/

// Amounts are decimal ASCII, converted by character code (no Buffer from the shared pool per transfer).
const encodeAmount = (n: bigint): Uint8Array => {
  const s = n.toString()
  const b = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i)
  return b
}
const decodeAmount = (v: Uint8Array | undefined): bigint => {
  if (!v) return 0n
  let s = ''
  // 'ascii' decoding: the high bit of each byte is dropped.
  for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]! & 0x7f)
  return BigInt(s)
}

/** Checks a coin list: valid denoms, positive amounts within 256 bits, no denom twice. */
export function validateCoins(coins: Coin[], what = 'amount'): Array<{ denom: string; amount: bigint }> {
  if (coins.length === 0) throw SdkErrors.InvalidCoins.with(`${what} is empty`)
  const seen = new Set<string>()
  return coins.map((c) => {
    if (!DENOM_RE.test(c.denom)) throw SdkErrors.InvalidCoins.with(`invalid denom ${JSON.stringify(c.denom)} in ${what}`)
    if (seen.has(c.denom)) throw SdkErrors.InvalidCoins.with(`duplicate denom ${c.denom} in ${what}`)
    seen.add(c.denom)
    if (!/^\d{1,78}$/.test(c.amount)) throw SdkErrors.InvalidCoins.with(`invalid amount ${JSON.stringify(c.amount)} for ${c.denom}`)
    const amount = BigInt(c.amount)
    if (amount === 0n) throw SdkErrors.InvalidCoins.with(`${what} of ${c.denom} must be positive`)
    if (amount > MAX_AMOUNT) throw SdkErrors.InvalidCoins.with(`${what} of ${c.denom} exceeds 2^256-1`)
    return { denom: c.denom, amount }
  })
}

export const formatCoins = (coins: Array<{ denom: string; amount: bigint | string }>) => coins.map((c) => `${c.amount}${c.denom}`).join(',')

/** Balances and supply. Every movement of funds goes through `send`, which keeps supply intact. */
export class BankKeeper {
  constructor(private readonly auth: AuthKeeper) {}

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  balance(ctx: Context | QueryContext, address: string, denom: string): bigint {
    return decodeAmount(this.kv(ctx).get(balanceKey(decodeBech32(address).data, denom)))
  }

  supply(ctx: Context | QueryContext, denom: string): bigint {
    return decodeAmount(this.kv(ctx).get(supplyKey(denom)))
  }

  /** A page of one account's balances (the AllBalances and SpendableBalances queries). */
  pageBalances(ctx: Context | QueryContext, addr: Uint8Array, page: PageRequest | undefined) {
    return paginate(this.kv(ctx), balancePrefix(addr), page, (k, v) => ({ denom: Buffer.from(k).toString('utf8'), amount: decodeAmount(v).toString() }))
  }

  /** A page of the supply of every denom. */
  pageSupply(ctx: Context | QueryContext, page: PageRequest | undefined) {
    return paginate(this.kv(ctx), SUPPLY_PREFIX, page, (k, v) => ({ denom: Buffer.from(k).toString('utf8'), amount: decodeAmount(v).toString() }))
  }

  /** Every non-zero balance, grouped by account in address-byte order (genesis export). */
  async balancesByAccount(ctx: Context | QueryContext): Promise<Array<{ addr: Uint8Array; coins: Coin[] }>> {
    const out: Array<{ addr: Uint8Array; coins: Coin[] }> = []
    for await (const [k, v] of this.kv(ctx).iterate({ start: BALANCE_PREFIX, end: prefixEnd(BALANCE_PREFIX) })) {
      const len = k[1]!
      const addr = k.subarray(2, 2 + len)
      const coin = { denom: Buffer.from(k.subarray(2 + len)).toString('utf8'), amount: decodeAmount(v).toString() }
      const last = out[out.length - 1]
      if (last && Buffer.compare(last.addr, addr) === 0) last.coins.push(coin)
      else out.push({ addr: Uint8Array.from(addr), coins: [coin] })
    }
    return out
  }

  /** The supply of every denom (genesis export). */
  async allSupply(ctx: Context | QueryContext): Promise<Coin[]> {
    const out: Coin[] = []
    for await (const [k, v] of this.kv(ctx).iterate({ start: SUPPLY_PREFIX, end: prefixEnd(SUPPLY_PREFIX) }))
      out.push({ denom: Buffer.from(k).subarray(1).toString('utf8'), amount: decodeAmount(v).toString() })
    return out
  }

  private setBalance(ctx: Context, addr: Uint8Array, denom: string, amount: bigint): void {
    const kv = this.kv(ctx)
    if (amount === 0n) kv.delete(balanceKey(addr, denom))
    else kv.set(balanceKey(addr, denom), encodeAmount(amount))
  }

  private subtract(ctx: Context, address: string, coins: Array<{ denom: string; amount: bigint }>): void {
    const addr = decodeBech32(address).data
    for (const c of coins) {
      const have = decodeAmount(this.kv(ctx).get(balanceKey(addr, c.denom)))
      if (have < c.amount) {
        throw SdkErrors.InsufficientFunds.with(`spendable balance ${have}${c.denom} is smaller than ${c.amount}${c.denom}`)
      }
      this.setBalance(ctx, addr, c.denom, have - c.amount)
    }
  }

  private add(ctx: Context, address: string, coins: Array<{ denom: string; amount: bigint }>): void {
    const addr = decodeBech32(address).data
    for (const c of coins) {
      const have = decodeAmount(this.kv(ctx).get(balanceKey(addr, c.denom)))
      this.setBalance(ctx, addr, c.denom, have + c.amount)
    }
  }

  /** Moves coins between accounts, creating the recipient's account on first receipt. */
  send(ctx: Context, from: string, to: string, coins: Array<{ denom: string; amount: bigint }>): void {
    this.subtract(ctx, from, coins)
    this.auth.ensureAccount(ctx, to)
    this.add(ctx, to, coins)
    const amount = formatCoins(coins)
    ctx.emit(
      event('coin_spent', { spender: from, amount }),
      event('coin_received', { receiver: to, amount }),
      event('transfer', { recipient: to, sender: from, amount }),
      event('message', { sender: from }),
    )
  }

  sendFromAccountToModule(ctx: Context, from: string, module: string, coins: Array<{ denom: string; amount: bigint }>): void {
    this.auth.ensureModuleAccount(ctx, module)
    this.send(ctx, from, moduleAddress(module), coins)
  }

  sendFromModuleToAccount(ctx: Context, module: string, to: string, coins: Array<{ denom: string; amount: bigint }>): void {
    this.send(ctx, moduleAddress(module), to, coins)
  }

  sendFromModuleToModule(ctx: Context, from: string, to: string, coins: Array<{ denom: string; amount: bigint }>): void {
    this.auth.ensureModuleAccount(ctx, to)
    this.send(ctx, moduleAddress(from), moduleAddress(to), coins)
  }

  /** Creates coins in a module account (genesis and modules with the minter permission only). */
  mint(ctx: Context, module: string, coins: Array<{ denom: string; amount: bigint }>): void {
    const address = this.auth.ensureModuleAccount(ctx, module).address
    this.add(ctx, address, coins)
    for (const c of coins) this.kv(ctx).set(supplyKey(c.denom), encodeAmount(this.supply(ctx, c.denom) + c.amount))
    ctx.emit(event('coinbase', { minter: address, amount: formatCoins(coins) }))
  }

  /** Genesis only: credits an account and the supply. */
  initBalance(ctx: Context, address: string, coins: Array<{ denom: string; amount: bigint }>): void {
    this.auth.ensureAccount(ctx, address)
    this.add(ctx, address, coins)
    for (const c of coins) this.kv(ctx).set(supplyKey(c.denom), encodeAmount(this.supply(ctx, c.denom) + c.amount))
  }

  /** Used by the ante: the fee goes to the fee collector module account. */
  deductFee(ctx: Context, payer: string, fee: Coin[]): void {
    try {
      this.sendFromAccountToModule(
        ctx,
        payer,
        FEE_COLLECTOR,
        fee.map((c) => ({ denom: c.denom, amount: BigInt(c.amount) })),
      )
    } catch (err) {
      if (err instanceof ChainError && SdkErrors.InsufficientFunds.is(err)) {
        throw SdkErrors.InsufficientFunds.with(`${err.message.replace(/: insufficient funds$/, '')}: insufficient funds to pay the fee`)
      }
      throw err
    }
  }
}
