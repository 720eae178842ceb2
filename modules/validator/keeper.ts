import { toBech32 } from '@cosmjs/encoding'
import type { Context, QueryContext } from '../../chain/context.ts'
import { event } from '../../chain/events.ts'
import type { CommitVote, ConsensusInfo, Misbehavior, ValidatorUpdate } from '../../chain/module.ts'
import { u64be } from '../../chain/store/encoding.ts'
import { LastDecoded } from '../../chain/store/memo.ts'
import { prefixEnd, type KVStore } from '../../chain/store/types.ts'
import { decodeBech32, sha256 } from '../../chain/tx/crypto.ts'
import { ActiveSet, Params, SigningInfo, UnbondingEntry, Validator, type ActiveValidator } from '../../proto/gen/beryl/validator/v1/types.ts'
import { BECH32_PREFIX, moduleAddress } from '../auth/index.ts'
import { FEE_COLLECTOR, type BankKeeper } from '../bank/index.ts'
import { DENOM } from '../common/amounts.ts'
import { COMMUNITY_POOL } from '../staking/index.ts'
import { powerOf, setUpdates } from './activeset.ts'
import { MODULE, ValidatorErrors } from './errors.ts'
import {
  ACTIVE_SET_KEY,
  PARAMS_KEY,
  POWER_PREFIX,
  SIGNING_INFO_PREFIX,
  UNBONDING_PREFIX,
  UNBONDING_QUEUE_PREFIX,
  VALIDATOR_PREFIX,
  consKey,
  missedKey,
  missedPrefix,
  powerKey,
  queueKey,
  signingInfoKey,
  unbondingKey,
  unbondingPrefix,
  validatorKey,
} from './keys.ts'
import { isDown } from './liveness.ts'
import { BONDED_POOL, DEFAULT_PARAMS, DISTRIBUTION_POOL, PPM } from './params.ts'
import { splitByPower } from './rewards.ts'

export const VALOPER_PREFIX = `${BECH32_PREFIX}valoper`

/** The consensus address CometBFT uses for an ed25519 key: sha256(key)[:20]. */
export const consensusAddress = (pubkey: Uint8Array): Uint8Array => sha256(pubkey).subarray(0, 20)

/** Bounded work per block: matured unbondings returned in one EndBlock; votes and evidence looked at. */
const MAX_RETURNS_PER_BLOCK = 1000
const MAX_VOTES_PER_BLOCK = 300
const MAX_EVIDENCE_PER_BLOCK = 100

const uberyl = (n: bigint) => `${n}${DENOM}`
const coins = (n: bigint) => [{ denom: DENOM, amount: n }]

export interface NewValidator {
  account: string
  moniker: string
  details: string
  consensusPubkey: Uint8Array
  /** ECVRF public key of the vote extensions (32 bytes; empty only for validators imported without one). */
  vrfPubkey: Uint8Array
  selfBond: bigint
  commissionPpm: number
}

/**
 * The bonded validator set: bonds, the power index and the active set CometBFT runs, liveness and
 * double-sign slashing, and fee rewards. Bonds live in the `validator` module account, unpaid
 * rewards in `distribution`; slashed stake goes to the community pool.
 */
export class ValidatorKeeper {
  constructor(private readonly bank: BankKeeper) {}

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  private readonly storedParams = new LastDecoded((v) => Params.decode(v))

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    return v ? this.storedParams.of(v) : DEFAULT_PARAMS
  }
  setParams(ctx: Context, p: Params): void {
    this.kv(ctx).set(PARAMS_KEY, Params.encode(p).finish())
  }

  // ---- reading ---------------------------------------------------------------------------------

  /** A validator by its account (beryl1…) or operator address (berylvaloper1…). */
  getValidator(ctx: Context | QueryContext, address: string): Validator | undefined {
    let d: { prefix: string; data: Uint8Array }
    try {
      d = decodeBech32(address)
    } catch {
      return undefined
    }
    if (d.prefix !== BECH32_PREFIX && d.prefix !== VALOPER_PREFIX) return undefined
    return this.getByBytes(ctx, d.data)
  }

  private getByBytes(ctx: Context | QueryContext, acct: Uint8Array): Validator | undefined {
    const v = this.kv(ctx).get(validatorKey(acct))
    return v ? Validator.decode(v) : undefined
  }

  getByConsensusAddress(ctx: Context | QueryContext, cons: Uint8Array): Validator | undefined {
    const acct = this.kv(ctx).get(consKey(cons))
    return acct ? this.getByBytes(ctx, acct) : undefined
  }

  activeSet(ctx: Context | QueryContext): ActiveValidator[] {
    const v = this.kv(ctx).get(ACTIVE_SET_KEY)
    return v ? ActiveSet.decode(v).validators : []
  }

  signingInfo(ctx: Context | QueryContext, pubkey: Uint8Array): SigningInfo | undefined {
    const v = this.kv(ctx).get(signingInfoKey(consensusAddress(pubkey)))
    return v ? SigningInfo.decode(v) : undefined
  }

  async unbondingEntries(ctx: Context | QueryContext, account: string): Promise<UnbondingEntry[]> {
    const p = unbondingPrefix(decodeBech32(account).data)
    const out: UnbondingEntry[] = []
    for await (const [, v] of this.kv(ctx).iterate({ start: p, end: prefixEnd(p), limit: 1000 })) out.push(UnbondingEntry.decode(v))
    return out
  }

  /** A page of validators in account order. */
  async pageValidators(ctx: Context | QueryContext, key: Uint8Array, limit: number): Promise<{ validators: Validator[]; nextKey: Uint8Array }> {
    const start = key.length ? Buffer.concat([VALIDATOR_PREFIX, key]) : VALIDATOR_PREFIX
    const validators: Validator[] = []
    let nextKey: Uint8Array = new Uint8Array()
    for await (const [k, v] of this.kv(ctx).iterate({ start, end: prefixEnd(VALIDATOR_PREFIX), limit: limit + 1 })) {
      if (validators.length === limit) {
        nextKey = Uint8Array.from(k.subarray(1))
        break
      }
      validators.push(Validator.decode(v))
    }
    return { validators, nextKey }
  }

  /** The module accounts' balances: bonded + unbonding, unpaid rewards, fee collector, community pool. */
  pools(ctx: Context | QueryContext) {
    const bal = (m: string) => this.bank.balance(ctx, moduleAddress(m), DENOM)
    return { bonded: bal(BONDED_POOL), outstandingRewards: bal(DISTRIBUTION_POOL), feeCollector: bal(FEE_COLLECTOR), communityPool: bal(COMMUNITY_POOL) }
  }

  // ---- writing: every change of a validator goes through put ------------------------------------

  private eligible(ctx: Context | QueryContext, v: Validator): boolean {
    return !v.jailed && !v.tombstoned && BigInt(v.bonded) >= BigInt(this.params(ctx).minSelfBond) && powerOf(BigInt(v.bonded)) > 0n
  }

  /** Writes a validator and moves its power index entry. */
  private put(ctx: Context, before: Validator | undefined, after: Validator): void {
    const acct = decodeBech32(after.account).data
    if (before && this.eligible(ctx, before)) this.kv(ctx).delete(powerKey(powerOf(BigInt(before.bonded)), acct))
    if (this.eligible(ctx, after)) this.kv(ctx).set(powerKey(powerOf(BigInt(after.bonded)), acct), new Uint8Array())
    this.kv(ctx).set(validatorKey(acct), Validator.encode(after).finish())
  }

  private mustGet(ctx: Context, account: string): Validator {
    const v = this.getValidator(ctx, account)
    if (!v) throw ValidatorErrors.ValidatorNotFound.with(account)
    return v
  }

  createValidator(ctx: Context, n: NewValidator): Validator {
    if (this.getValidator(ctx, n.account)) throw ValidatorErrors.ValidatorExists.with(n.account)
    const cons = consensusAddress(n.consensusPubkey)
    if (this.kv(ctx).get(consKey(cons))) throw ValidatorErrors.ConsensusKeyTaken.with(Buffer.from(n.consensusPubkey).toString('base64'))
    const min = BigInt(this.params(ctx).minSelfBond)
    if (n.selfBond < min) throw ValidatorErrors.BondTooLow.with(`self-bond ${uberyl(n.selfBond)} is below the minimum ${uberyl(min)}`)
    this.bank.sendFromAccountToModule(ctx, n.account, BONDED_POOL, coins(n.selfBond))
    const acct = decodeBech32(n.account).data
    const v: Validator = {
      account: n.account,
      operatorAddress: toBech32(VALOPER_PREFIX, acct),
      moniker: n.moniker,
      details: n.details,
      consensusPubkey: n.consensusPubkey,
      bonded: n.selfBond.toString(),
      commissionPpm: n.commissionPpm,
      jailed: false,
      jailedUntil: 0n,
      tombstoned: false,
      rewards: '0',
      slashed: '0',
      createdHeight: ctx.block.height,
      vrfPubkey: n.vrfPubkey,
    }
    this.kv(ctx).set(consKey(cons), acct)
    this.setSigningInfo(ctx, cons, { account: n.account, startHeight: ctx.block.height, indexOffset: 0n, missedBlocks: 0n })
    this.put(ctx, undefined, v)
    ctx.emit(event('create_validator', { validator: v.operatorAddress, account: n.account, moniker: n.moniker, amount: uberyl(n.selfBond) }))
    return v
  }

  editValidator(ctx: Context, account: string, change: { moniker?: string; details?: string; commissionPpm?: number }): void {
    const v = this.mustGet(ctx, account)
    const after = { ...v, moniker: change.moniker || v.moniker, details: change.details ?? v.details, commissionPpm: change.commissionPpm ?? v.commissionPpm }
    this.put(ctx, v, after)
    ctx.emit(event('edit_validator', { validator: v.operatorAddress, moniker: after.moniker, commission_ppm: String(after.commissionPpm) }))
  }

  bond(ctx: Context, account: string, amount: bigint): void {
    const v = this.mustGet(ctx, account)
    if (v.tombstoned) throw ValidatorErrors.Tombstoned.with(v.operatorAddress)
    this.bank.sendFromAccountToModule(ctx, account, BONDED_POOL, coins(amount))
    this.put(ctx, v, { ...v, bonded: (BigInt(v.bonded) + amount).toString() })
    ctx.emit(event('bond', { validator: v.operatorAddress, amount: uberyl(amount) }))
  }

  /**
   * Moves bonded stake to an unbonding entry returned after `unbonding_period`; it stays slashable
   * for infractions committed before this height. Below the minimum self-bond the validator leaves
   * the set at the end of the block.
   */
  async unbond(ctx: Context, account: string, amount: bigint): Promise<bigint> {
    const v = this.mustGet(ctx, account)
    const bonded = BigInt(v.bonded)
    if (amount > bonded) throw ValidatorErrors.InsufficientBond.with(`unbonding ${uberyl(amount)} but ${uberyl(bonded)} is bonded`)
    const p = this.params(ctx)
    const acct = decodeBech32(account).data
    const existing = this.kv(ctx).get(unbondingKey(acct, ctx.block.height))
    let count = 0
    for await (const _ of this.kv(ctx).iterate({ start: unbondingPrefix(acct), end: prefixEnd(unbondingPrefix(acct)), limit: p.maxUnbondingEntries })) count++
    if (!existing && count >= p.maxUnbondingEntries) throw ValidatorErrors.TooManyUnbondings.with(`${count} entries pending`)
    const completion = ctx.block.timeSeconds + p.unbondingPeriod
    // Two unbondings in one block share an entry (same creation height, same completion).
    const prev = existing ? UnbondingEntry.decode(existing) : undefined
    const entry: UnbondingEntry = {
      account,
      creationHeight: ctx.block.height,
      completionTime: completion,
      amount: ((prev ? BigInt(prev.amount) : 0n) + amount).toString(),
    }
    this.kv(ctx).set(unbondingKey(acct, ctx.block.height), UnbondingEntry.encode(entry).finish())
    this.kv(ctx).set(queueKey(completion, acct, ctx.block.height), new Uint8Array())
    this.put(ctx, v, { ...v, bonded: (bonded - amount).toString() })
    ctx.emit(event('unbond', { validator: v.operatorAddress, amount: uberyl(amount), completion_time: String(completion) }))
    return completion
  }

  unjail(ctx: Context, account: string): void {
    const v = this.mustGet(ctx, account)
    if (v.tombstoned) throw ValidatorErrors.Tombstoned.with(v.operatorAddress)
    if (!v.jailed) throw ValidatorErrors.NotJailed.with(v.operatorAddress)
    if (ctx.block.timeSeconds < v.jailedUntil) throw ValidatorErrors.StillJailed.with(`until block time ${v.jailedUntil} (now ${ctx.block.timeSeconds})`)
    const min = BigInt(this.params(ctx).minSelfBond)
    if (BigInt(v.bonded) < min) throw ValidatorErrors.BondTooLow.with(`bonded ${uberyl(BigInt(v.bonded))} is below the minimum ${uberyl(min)}; bond more first`)
    const cons = consensusAddress(v.consensusPubkey)
    // Counted afresh from now: the blocks missed while jailed are forgotten.
    this.setSigningInfo(ctx, cons, { account, startHeight: ctx.block.height, indexOffset: 0n, missedBlocks: 0n })
    this.put(ctx, v, { ...v, jailed: false, jailedUntil: 0n })
    ctx.emit(event('unjail', { validator: v.operatorAddress }))
  }

  withdrawRewards(ctx: Context, account: string): bigint {
    const v = this.mustGet(ctx, account)
    const amount = BigInt(v.rewards)
    if (amount > 0n) this.bank.sendFromModuleToAccount(ctx, DISTRIBUTION_POOL, account, coins(amount))
    this.put(ctx, v, { ...v, rewards: '0' })
    ctx.emit(event('withdraw_rewards', { validator: v.operatorAddress, amount: uberyl(amount) }))
    return amount
  }

  // ---- slashing ---------------------------------------------------------------------------------

  /**
   * Takes `ppm` of the bond and of every unbonding entry created after `infractionHeight` (stake
   * that was bonded when the infraction happened) to the community pool.
   */
  private async slash(ctx: Context, v: Validator, ppm: number, infractionHeight: bigint, reason: string): Promise<Validator> {
    const fraction = BigInt(ppm)
    const acct = decodeBech32(v.account).data
    let taken = (BigInt(v.bonded) * fraction) / PPM
    const entries: Array<[Uint8Array, UnbondingEntry]> = []
    const p = unbondingPrefix(acct)
    for await (const [k, val] of this.kv(ctx).iterate({ start: p, end: prefixEnd(p), limit: 100 }))
      entries.push([Uint8Array.from(k), UnbondingEntry.decode(val)])
    for (const [k, e] of entries) {
      if (e.creationHeight <= infractionHeight) continue
      const cut = (BigInt(e.amount) * fraction) / PPM
      if (cut === 0n) continue
      taken += cut
      this.kv(ctx).set(k, UnbondingEntry.encode({ ...e, amount: (BigInt(e.amount) - cut).toString() }).finish())
    }
    const after = { ...v, bonded: (BigInt(v.bonded) - (BigInt(v.bonded) * fraction) / PPM).toString(), slashed: (BigInt(v.slashed) + taken).toString() }
    if (taken > 0n) this.bank.sendFromModuleToModule(ctx, BONDED_POOL, COMMUNITY_POOL, coins(taken))
    ctx.emit(event('slash', { validator: v.operatorAddress, amount: uberyl(taken), reason, infraction_height: String(infractionHeight) }))
    return after
  }

  /** Duplicate votes (or a light-client attack): slashed `double_sign_slash_ppm`, jailed forever. */
  private async handleEvidence(ctx: Context, m: Misbehavior): Promise<void> {
    const v = this.getByConsensusAddress(ctx, m.address)
    if (!v || v.tombstoned) return
    const slashed = await this.slash(ctx, v, this.params(ctx).doubleSignSlashPpm, m.height, m.kind)
    this.put(ctx, v, { ...slashed, jailed: true, tombstoned: true, jailedUntil: 0n })
    ctx.emit(event('tombstone', { validator: v.operatorAddress, reason: m.kind, infraction_height: String(m.height) }))
  }

  private setSigningInfo(ctx: Context, cons: Uint8Array, info: SigningInfo): void {
    this.kv(ctx).set(signingInfoKey(cons), SigningInfo.encode(info).finish())
  }

  /** One vote of the last commit: moves the validator's liveness window, jails it if it is down. */
  private async handleVote(ctx: Context, vote: CommitVote, p: Params): Promise<void> {
    const v = this.getByConsensusAddress(ctx, vote.address)
    if (!v || v.jailed || v.tombstoned) return
    const raw = this.kv(ctx).get(signingInfoKey(vote.address))
    const info = raw ? SigningInfo.decode(raw) : { account: v.account, startHeight: ctx.block.height, indexOffset: 0n, missedBlocks: 0n }
    const window = p.signedBlocksWindow
    const idx = info.indexOffset % window
    const k = missedKey(vote.address, idx)
    const wasMissed = this.kv(ctx).get(k) !== undefined
    const missed = !vote.signed
    let missedBlocks = info.missedBlocks
    if (missed && !wasMissed) {
      this.kv(ctx).set(k, Uint8Array.of(1))
      missedBlocks++
    } else if (!missed && wasMissed) {
      this.kv(ctx).delete(k)
      missedBlocks--
    }
    const counted = info.indexOffset + 1n
    if (missed) ctx.emit(event('liveness', { validator: v.operatorAddress, missed_blocks: String(missedBlocks), height: String(ctx.block.height) }))
    if (isDown(counted, missedBlocks, window, p.maxMissedPpm)) {
      const slashed = await this.slash(ctx, v, p.downtimeSlashPpm, ctx.block.height - 2n, 'missing_signature')
      const until = ctx.block.timeSeconds + p.downtimeJailSeconds
      this.put(ctx, v, { ...slashed, jailed: true, jailedUntil: until })
      // The window starts over (bounded: at most `window` keys).
      const mp = missedPrefix(vote.address)
      const keys: Uint8Array[] = []
      for await (const [mk] of this.kv(ctx).iterate({ start: mp, end: prefixEnd(mp), limit: Number(window) })) keys.push(Uint8Array.from(mk))
      for (const mk of keys) this.kv(ctx).delete(mk)
      this.setSigningInfo(ctx, vote.address, { ...info, indexOffset: 0n, missedBlocks: 0n })
      ctx.emit(event('jail', { validator: v.operatorAddress, reason: 'missing_signature', jailed_until: String(until) }))
      return
    }
    this.setSigningInfo(ctx, vote.address, { ...info, indexOffset: counted, missedBlocks })
  }

  // ---- block hooks ------------------------------------------------------------------------------

  /** BeginBlock: evidence, liveness, then the fee collector's balance to the active set. */
  async beginBlock(ctx: Context, consensus: ConsensusInfo): Promise<void> {
    for (const m of consensus.misbehavior.slice(0, MAX_EVIDENCE_PER_BLOCK)) await this.handleEvidence(ctx, m)
    const p = this.params(ctx)
    if (ctx.block.height > 1n) {
      // Sorted by address: the outcome must not depend on the order CometBFT lists votes in.
      const votes = [...consensus.lastCommit].slice(0, MAX_VOTES_PER_BLOCK).sort((a, b) => Buffer.compare(Buffer.from(a.address), Buffer.from(b.address)))
      for (const vote of votes) await this.handleVote(ctx, vote, p)
    }
    this.distributeFees(ctx)
  }

  /**
   * Pays the fee collector's whole uberyl balance to the active set by power (rewards.ts); the
   * remainder stays in the fee collector for the next block. O(active set).
   */
  distributeFees(ctx: Context): void {
    const set = this.activeSet(ctx)
    if (set.length === 0) return
    const fees = this.bank.balance(ctx, moduleAddress(FEE_COLLECTOR), DENOM)
    if (fees === 0n) return
    const { shares, remainder } = splitByPower(
      fees,
      set.map((v) => v.power),
    )
    const paid = fees - remainder
    if (paid === 0n) return
    this.bank.sendFromModuleToModule(ctx, FEE_COLLECTOR, DISTRIBUTION_POOL, coins(paid))
    set.forEach((a, i) => {
      const share = shares[i]!
      if (share === 0n) return
      const v = this.getValidator(ctx, a.account)
      if (!v) return
      this.put(ctx, v, { ...v, rewards: (BigInt(v.rewards) + share).toString() })
    })
    ctx.emit(event('distribute_fees', { amount: uberyl(paid), remainder: uberyl(remainder), validators: String(set.length) }))
  }

  /** EndBlock: matured unbondings go home, then the active set is recomputed and changes returned. */
  async endBlock(ctx: Context): Promise<ValidatorUpdate[]> {
    await this.returnMatured(ctx)
    return this.updateActiveSet(ctx)
  }

  private async returnMatured(ctx: Context): Promise<void> {
    const end = Buffer.concat([UNBONDING_QUEUE_PREFIX, u64be(ctx.block.timeSeconds + 1n)])
    const due: Uint8Array[] = []
    for await (const [k] of this.kv(ctx).iterate({ start: UNBONDING_QUEUE_PREFIX, end, limit: MAX_RETURNS_PER_BLOCK })) due.push(Uint8Array.from(k))
    for (const k of due) {
      this.kv(ctx).delete(k)
      const acct = k.subarray(9, k.length - 8)
      const ek = Buffer.concat([UNBONDING_PREFIX, k.subarray(9)])
      const raw = this.kv(ctx).get(ek)
      if (!raw) continue
      this.kv(ctx).delete(ek)
      const e = UnbondingEntry.decode(raw)
      if (BigInt(e.amount) > 0n) this.bank.sendFromModuleToAccount(ctx, BONDED_POOL, toBech32(BECH32_PREFIX, acct), coins(BigInt(e.amount)))
      ctx.emit(event('complete_unbonding', { account: e.account, amount: uberyl(BigInt(e.amount)) }))
    }
  }

  /** The first max_validators of the power index; the updates against the last set told to CometBFT. */
  async computeActiveSet(ctx: Context | QueryContext): Promise<ActiveValidator[]> {
    const max = this.params(ctx).maxValidators
    const out: ActiveValidator[] = []
    for await (const [k] of this.kv(ctx).iterate({ start: POWER_PREFIX, end: prefixEnd(POWER_PREFIX), limit: max })) {
      const v = this.getByBytes(ctx, k.subarray(9))
      if (!v) continue
      out.push({ account: v.account, power: powerOf(BigInt(v.bonded)), consensusPubkey: v.consensusPubkey })
    }
    return out
  }

  async updateActiveSet(ctx: Context): Promise<ValidatorUpdate[]> {
    const before = this.activeSet(ctx)
    const after = await this.computeActiveSet(ctx)
    if (after.length === 0) {
      // CometBFT halts on an empty set: keep the last one (and with no validators yet, genesis.json's).
      if (before.length > 0) ctx.emit(event('active_set_kept', { reason: 'no eligible validator' }))
      return []
    }
    const updates = setUpdates(before, after)
    if (updates.length === 0) return []
    this.kv(ctx).set(ACTIVE_SET_KEY, ActiveSet.encode({ validators: after }).finish())
    for (const u of updates) ctx.emit(event('validator_update', { account: u.account, power: String(u.power) }))
    return updates.map((u) => ({ ed25519PubKey: u.consensusPubkey, power: u.power }))
  }

  // ---- genesis ------------------------------------------------------------------------------------

  /** Genesis import of an exported validator; its bond is already in the module account (bank genesis). */
  importValidator(ctx: Context, v: Validator): void {
    const acct = decodeBech32(v.account).data
    if (this.getByBytes(ctx, acct)) throw new Error(`validator genesis: ${v.account} is listed twice`)
    if (v.consensusPubkey.length !== 32) throw new Error(`validator genesis: ${v.account} has no ed25519 consensus key`)
    const cons = consensusAddress(v.consensusPubkey)
    if (this.kv(ctx).get(consKey(cons))) throw new Error(`validator genesis: the consensus key of ${v.account} is used twice`)
    this.kv(ctx).set(consKey(cons), acct)
    this.put(ctx, undefined, { ...v, operatorAddress: toBech32(VALOPER_PREFIX, acct) })
  }

  importUnbonding(ctx: Context, e: UnbondingEntry): void {
    const acct = decodeBech32(e.account).data
    this.kv(ctx).set(unbondingKey(acct, e.creationHeight), UnbondingEntry.encode(e).finish())
    this.kv(ctx).set(queueKey(e.completionTime, acct, e.creationHeight), new Uint8Array())
  }

  /** A signing info after a genesis import: counted afresh (the missed-block bitmap is not exported). */
  importSigningInfo(ctx: Context, cons: Uint8Array, info: SigningInfo): void {
    this.setSigningInfo(ctx, cons, { ...info, indexOffset: 0n, missedBlocks: 0n })
  }

  setActiveSet(ctx: Context, set: ActiveValidator[]): void {
    this.kv(ctx).set(ACTIVE_SET_KEY, ActiveSet.encode({ validators: set }).finish())
  }

  async exportState(ctx: QueryContext): Promise<{ validators: Validator[]; unbonding: UnbondingEntry[]; signingInfos: SigningInfo[]; activeSet: ActiveSet }> {
    const validators: Validator[] = [],
      unbonding: UnbondingEntry[] = [],
      signingInfos: SigningInfo[] = []
    for await (const [, v] of this.kv(ctx).iterate({ start: VALIDATOR_PREFIX, end: prefixEnd(VALIDATOR_PREFIX) })) validators.push(Validator.decode(v))
    for await (const [, v] of this.kv(ctx).iterate({ start: UNBONDING_PREFIX, end: prefixEnd(UNBONDING_PREFIX) })) unbonding.push(UnbondingEntry.decode(v))
    for await (const [, v] of this.kv(ctx).iterate({ start: SIGNING_INFO_PREFIX, end: prefixEnd(SIGNING_INFO_PREFIX) }))
      signingInfos.push(SigningInfo.decode(v))
    return { validators, unbonding, signingInfos, activeSet: { validators: this.activeSet(ctx) } }
  }

  /** Whether a consensus key is registered (genesis checks). */
  hasConsensusKey(ctx: Context | QueryContext, pubkey: Uint8Array): boolean {
    return this.kv(ctx).get(consKey(consensusAddress(pubkey))) !== undefined
  }
}
