import type { Context } from '../../chain/context.ts'
import type { MsgRoute, ProtoType } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import {
  MsgBond,
  MsgBondResponse,
  MsgCreateValidator,
  MsgCreateValidatorResponse,
  MsgEditValidator,
  MsgEditValidatorResponse,
  MsgUnbond,
  MsgUnbondResponse,
  MsgUnjail,
  MsgUnjailResponse,
  MsgWithdrawRewards,
  MsgWithdrawRewardsResponse,
} from '../../proto/gen/beryl/validator/v1/tx.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { parseAmount } from '../common/amounts.ts'
import { ValidatorErrors } from './errors.ts'
import type { ValidatorKeeper } from './keeper.ts'

const amount = (s: string, what: string) => parseAmount(s, what, ValidatorErrors.InvalidAmount)
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/

function checkMoniker(m: string, required: boolean): void {
  if (required && !m) throw ValidatorErrors.InvalidDescription.with('moniker is required')
  if ([...m].length > 70 || !PRINTABLE.test(m)) throw ValidatorErrors.InvalidDescription.with('moniker must be at most 70 printable characters')
}
function checkDetails(d: string): void {
  if ([...d].length > 280 || !PRINTABLE.test(d)) throw ValidatorErrors.InvalidDescription.with('details must be at most 280 printable characters')
}
function checkCommission(ppm: number | undefined): void {
  if (ppm !== undefined && (!Number.isInteger(ppm) || ppm < 0 || ppm > 1_000_000))
    throw ValidatorErrors.InvalidCommission.with('commission_ppm must be 0..1000000')
}

/** Stateless checks of MsgCreateValidator (also applied to genesis transactions). */
export function validateCreateValidator(m: MsgCreateValidator): void {
  checkAddress(m.account, BECH32_PREFIX)
  checkMoniker(m.moniker, true)
  checkDetails(m.details)
  if (m.consensusPubkey.length !== 32) throw ValidatorErrors.InvalidConsensusKey.with(`an ed25519 key has 32 bytes, got ${m.consensusPubkey.length}`)
  if (m.vrfPubkey.length !== 32)
    throw ValidatorErrors.InvalidConsensusKey.with(
      `vrf_pubkey: an ECVRF key has 32 bytes, got ${m.vrfPubkey.length} (the node's config/vrf_key.json; \`beryld init\` writes it)`,
    )
  amount(m.selfBond, 'self_bond')
  checkCommission(m.commissionPpm)
}

export function applyCreateValidator(keeper: ValidatorKeeper, ctx: Context, m: MsgCreateValidator): void {
  keeper.createValidator(ctx, {
    account: m.account,
    moniker: m.moniker,
    details: m.details,
    consensusPubkey: Uint8Array.from(m.consensusPubkey),
    vrfPubkey: Uint8Array.from(m.vrfPubkey),
    selfBond: amount(m.selfBond, 'self_bond'),
    commissionPpm: m.commissionPpm,
  })
}

const ok = <T>(typeUrl: string, type: ProtoType<T>, value: T) => ({ typeUrl, value: type.encode(value).finish() })
const url = (name: string) => `/beryl.validator.v1.${name}`
const signer = (m: { account: string }) => [m.account]
const checkSigner = (m: { account: string }) => {
  checkAddress(m.account, BECH32_PREFIX)
}

/** beryl.validator.v1.Msg: every message is signed by the validator's operator account. */
export function validatorMsgs(keeper: ValidatorKeeper): MsgRoute[] {
  return [
    {
      typeUrl: url('MsgCreateValidator'),
      type: MsgCreateValidator,
      signers: signer,
      validate: validateCreateValidator,
      handle(ctx: Context, m: MsgCreateValidator) {
        applyCreateValidator(keeper, ctx, m)
        return ok(url('MsgCreateValidatorResponse'), MsgCreateValidatorResponse, {})
      },
    } satisfies MsgRoute<MsgCreateValidator>,
    {
      typeUrl: url('MsgEditValidator'),
      type: MsgEditValidator,
      signers: signer,
      validate(m: MsgEditValidator) {
        checkSigner(m)
        checkMoniker(m.moniker, false)
        checkDetails(m.details)
        checkCommission(m.commissionPpm)
      },
      handle(ctx: Context, m: MsgEditValidator) {
        keeper.editValidator(ctx, m.account, { moniker: m.moniker || undefined, details: m.details || undefined, commissionPpm: m.commissionPpm })
        return ok(url('MsgEditValidatorResponse'), MsgEditValidatorResponse, {})
      },
    } satisfies MsgRoute<MsgEditValidator>,
    {
      typeUrl: url('MsgBond'),
      type: MsgBond,
      signers: signer,
      validate(m: MsgBond) {
        checkSigner(m)
        amount(m.amount, 'amount')
      },
      handle(ctx: Context, m: MsgBond) {
        keeper.bond(ctx, m.account, amount(m.amount, 'amount'))
        return ok(url('MsgBondResponse'), MsgBondResponse, {})
      },
    } satisfies MsgRoute<MsgBond>,
    {
      typeUrl: url('MsgUnbond'),
      type: MsgUnbond,
      signers: signer,
      validate(m: MsgUnbond) {
        checkSigner(m)
        amount(m.amount, 'amount')
      },
      async handle(ctx: Context, m: MsgUnbond) {
        const completionTime = await keeper.unbond(ctx, m.account, amount(m.amount, 'amount'))
        return ok(url('MsgUnbondResponse'), MsgUnbondResponse, { completionTime })
      },
    } satisfies MsgRoute<MsgUnbond>,
    {
      typeUrl: url('MsgUnjail'),
      type: MsgUnjail,
      signers: signer,
      validate: checkSigner,
      handle(ctx: Context, m: MsgUnjail) {
        keeper.unjail(ctx, m.account)
        return ok(url('MsgUnjailResponse'), MsgUnjailResponse, {})
      },
    } satisfies MsgRoute<MsgUnjail>,
    {
      typeUrl: url('MsgWithdrawRewards'),
      type: MsgWithdrawRewards,
      signers: signer,
      validate: checkSigner,
      handle(ctx: Context, m: MsgWithdrawRewards) {
        const paid = keeper.withdrawRewards(ctx, m.account)
        return ok(url('MsgWithdrawRewardsResponse'), MsgWithdrawRewardsResponse, { amount: paid.toString() })
      },
    } satisfies MsgRoute<MsgWithdrawRewards>,
  ]
}
