import { toBech32 } from '@cosmjs/encoding'
import { BaseAccount, ModuleAccount, Params } from 'cosmjs-types/cosmos/auth/v1beta1/auth'
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys'
import { Any as AnyType, type Any } from 'cosmjs-types/google/protobuf/any'
import { decodeBech32 } from '../../chain/tx/crypto.ts'
import type { Context, QueryContext } from '../../chain/context.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import type { PageRequest } from 'cosmjs-types/cosmos/base/query/v1beta1/pagination'
import { paginate } from '../../chain/pagination.ts'
import { sha256, SECP256K1_PUBKEY_TYPE } from '../../chain/tx/crypto.ts'
import type { Account, AuthParams } from '../../chain/tx/ante.ts'

import { MODULE } from './errors.ts'
import { ACCOUNT_PREFIX, NEXT_NUMBER_KEY, PARAMS_KEY, accountKey } from './keys.ts'
import { BECH32_PREFIX, DEFAULT_PARAMS } from './params.ts'

const moduleAddresses = new Map<string, string>()
/** The address of a module account: sha256(name)[:20], as the SDK's `address.Module` (memoized: every fee and escrow asks). */
export function moduleAddress(name: string): string {
  let a = moduleAddresses.get(name)
  if (a === undefined) {
    a = toBech32(BECH32_PREFIX, sha256(Buffer.from(name, 'utf8')).subarray(0, 20))
    if (moduleAddresses.size < 1000) moduleAddresses.set(name, a)
  }
  return a
}

export interface StoredAccount extends Account {
  /** Set for module accounts (which hold funds for a module and never sign). */
  moduleName?: string
  permissions?: string[]
}

export function encodeAccount(a: StoredAccount): Any {
  const base: BaseAccount = {
    address: a.address,
    pubKey: a.pubKey ? { typeUrl: SECP256K1_PUBKEY_TYPE, value: PubKey.encode({ key: a.pubKey }).finish() } : undefined,
    accountNumber: a.accountNumber,
    sequence: a.sequence,
  }
  if (a.moduleName !== undefined) {
    return {
      typeUrl: '/cosmos.auth.v1beta1.ModuleAccount',
      value: ModuleAccount.encode({ baseAccount: base, name: a.moduleName, permissions: a.permissions ?? [] }).finish(),
    }
  }
  return { typeUrl: '/cosmos.auth.v1beta1.BaseAccount', value: BaseAccount.encode(base).finish() }
}

export function decodeAccount(any: Any): StoredAccount {
  if (any.typeUrl === '/cosmos.auth.v1beta1.ModuleAccount') {
    const m = ModuleAccount.decode(any.value)
    const b = m.baseAccount!
    return { address: b.address, accountNumber: b.accountNumber, sequence: b.sequence, moduleName: m.name, permissions: m.permissions }
  }
  const b = BaseAccount.decode(any.value)
  return {
    address: b.address,
    accountNumber: b.accountNumber,
    sequence: b.sequence,
    pubKey: b.pubKey ? PubKey.decode(b.pubKey.value).key : undefined,
  }
}

// Accounts are read on every tx: decoding is memoized on the stored bytes (callers copy before
// changing an account, so sharing the decoded object is safe).
const decodedAccounts = new Map<string, StoredAccount>()
// The same stored value object is read again and again (an in-memory store or a block's overlay returns it until
// it is overwritten): found by identity before its bytes are turned into a key.
const decodedValues = new WeakMap<Uint8Array, StoredAccount>()
function decodeStored(v: Uint8Array): StoredAccount {
  const known = decodedValues.get(v)
  if (known) return known
  const a = decodeStoredBytes(v)
  decodedValues.set(v, a)
  return a
}
function decodeStoredBytes(v: Uint8Array): StoredAccount {
  const id = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1')
  let a = decodedAccounts.get(id)
  if (!a) {
    a = Object.freeze(decodeAccount(AnyType.decode(v))) as StoredAccount
    if (decodedAccounts.size >= 50_000) decodedAccounts.delete(decodedAccounts.keys().next().value!)
    decodedAccounts.set(id, a)
  }
  return a
}

// Accounts are stored as Any bytes (type url + value), so queries return them unchanged.

/** Accounts, their numbers, sequences and keys. Other modules use it through this class only. */
export class AuthKeeper {
  readonly prefix = BECH32_PREFIX

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  private lastParams?: { raw: Uint8Array; params: Params }

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    if (!v) return DEFAULT_PARAMS
    // Read on every tx; decode only when the stored bytes change.
    if (this.lastParams && Buffer.compare(this.lastParams.raw, v) === 0) return this.lastParams.params
    this.lastParams = { raw: Uint8Array.from(v), params: Params.decode(v) }
    return this.lastParams.params
  }

  setParams(ctx: Context, p: Params): void {
    this.kv(ctx).set(PARAMS_KEY, Params.encode(p).finish())
  }

  authParams(ctx: Context): AuthParams {
    return this.params(ctx)
  }

  getAccount(ctx: Context | QueryContext, address: string): StoredAccount | undefined {
    let data: Uint8Array
    try {
      data = decodeBech32(address).data
    } catch {
      return undefined
    }
    const v = this.kv(ctx).get(accountKey(data))
    return v ? decodeStored(v) : undefined
  }

  setAccount(ctx: Context, a: StoredAccount): void {
    this.kv(ctx).set(accountKey(decodeBech32(a.address).data), AnyType.encode(encodeAccount(a)).finish())
  }

  private nextAccountNumber(ctx: Context): bigint {
    const kv = this.kv(ctx)
    const v = kv.get(NEXT_NUMBER_KEY)
    const n = v ? BigInt(Buffer.from(v).toString('ascii')) : 0n
    kv.set(NEXT_NUMBER_KEY, Buffer.from(String(n + 1n), 'ascii'))
    return n
  }

  /** The account at `address`, created (with the next account number) if it does not exist yet. */
  ensureAccount(ctx: Context, address: string): StoredAccount {
    const existing = this.getAccount(ctx, address)
    if (existing) return existing
    const a: StoredAccount = { address, accountNumber: this.nextAccountNumber(ctx), sequence: 0n }
    this.setAccount(ctx, a)
    return a
  }

  /** The module account `name`, created with `permissions` on first use. */
  ensureModuleAccount(ctx: Context, name: string, permissions: string[] = []): StoredAccount {
    const address = moduleAddress(name)
    const existing = this.getAccount(ctx, address)
    if (existing?.moduleName !== undefined) return existing
    const a: StoredAccount = { address, accountNumber: existing?.accountNumber ?? this.nextAccountNumber(ctx), sequence: 0n, moduleName: name, permissions }
    this.setAccount(ctx, a)
    return a
  }

  isModuleAccount(ctx: Context, address: string): boolean {
    return this.getAccount(ctx, address)?.moduleName !== undefined
  }

  /** Every account, in address-byte order (genesis export). */
  async allAccounts(ctx: Context | QueryContext): Promise<StoredAccount[]> {
    const out: StoredAccount[] = []
    for await (const [, v] of this.kv(ctx).iterate({ start: ACCOUNT_PREFIX, end: prefixEnd(ACCOUNT_PREFIX) })) out.push(decodeStored(v))
    return out
  }

  /** Genesis import: an account exactly as exported (its number is kept; later numbers follow the largest). */
  importAccount(ctx: Context, a: StoredAccount): void {
    if (this.getAccount(ctx, a.address)) throw new Error(`auth genesis: account ${a.address} is listed twice`)
    this.setAccount(ctx, a)
    const next = this.kv(ctx).get(NEXT_NUMBER_KEY)
    if (!next || BigInt(Buffer.from(next).toString('ascii')) <= a.accountNumber)
      this.kv(ctx).set(NEXT_NUMBER_KEY, Buffer.from(String(a.accountNumber + 1n), 'ascii'))
  }

  /** A page of accounts as stored (protobuf Any), for the Accounts query. */
  pageAccounts(ctx: Context | QueryContext, page: PageRequest | undefined) {
    return paginate(this.kv(ctx), ACCOUNT_PREFIX, page, (_k, v) => AnyType.decode(v))
  }
}
