import type { Context } from '../../chain/context.ts'
import type { MsgRoute, ProtoType } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import {
  MsgAddStake,
  MsgAddStakeResponse,
  MsgJoin,
  MsgJoinResponse,
  MsgPause,
  MsgPauseResponse,
  MsgQuit,
  MsgQuitResponse,
  MsgResume,
  MsgResumeResponse,
  MsgUpdateModels,
  MsgUpdateModelsResponse,
} from '../../proto/gen/beryl/staking/v1/tx.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { parseAmount } from '../common/amounts.ts'
import { checkVersion, validateModelIds } from '../common/models.ts'
import { StakingErrors } from './errors.ts'
import type { StakingKeeper } from './keeper.ts'

const modelIds = (ids: string[]) => validateModelIds(ids, StakingErrors.InvalidNode)
const amount = (s: string, what: string) => parseAmount(s, what, StakingErrors.InvalidAmount)

function validateJoin(m: MsgJoin): void {
  checkAddress(m.address, BECH32_PREFIX)
  if (!m.gpuName || m.gpuName.length > 128 || /[\u0000-\u001f]/.test(m.gpuName))
    throw StakingErrors.InvalidNode.with('gpu_name must be 1..128 printable characters')
  if (!Number.isInteger(m.gpuVramGb) || m.gpuVramGb < 1 || m.gpuVramGb > 4096) throw StakingErrors.InvalidNode.with('gpu_vram_gb must be 1..4096')
  checkVersion(m.runnerVersion, 'runner_version', StakingErrors.InvalidNode)
  modelIds(m.modelIds)
  amount(m.stake, 'stake')
}

const ok = <T>(typeUrl: string, type: ProtoType<T>, value: T) => ({ typeUrl, value: type.encode(value).finish() })
const url = (name: string) => `/beryl.staking.v1.${name}`
const signer = (m: { address: string }) => [m.address]
const checkSigner = (m: { address: string }) => {
  checkAddress(m.address, BECH32_PREFIX)
}

/** beryl.staking.v1.Msg: every message is signed by the node operator's account. */
export function stakingMsgs(keeper: StakingKeeper): MsgRoute[] {
  return [
    {
      typeUrl: url('MsgJoin'),
      type: MsgJoin,
      signers: signer,
      validate: validateJoin,
      handle(ctx: Context, m: MsgJoin) {
        keeper.join(ctx, {
          address: m.address,
          gpuName: m.gpuName,
          gpuVramGb: m.gpuVramGb,
          runnerVersion: m.runnerVersion,
          modelIds: modelIds(m.modelIds),
          stake: m.stake,
        })
        return ok(url('MsgJoinResponse'), MsgJoinResponse, {})
      },
    } satisfies MsgRoute<MsgJoin>,
    {
      typeUrl: url('MsgAddStake'),
      type: MsgAddStake,
      signers: signer,
      validate(m: MsgAddStake) {
        checkSigner(m)
        amount(m.amount, 'amount')
      },
      handle(ctx: Context, m: MsgAddStake) {
        keeper.addStake(ctx, m.address, amount(m.amount, 'amount'))
        return ok(url('MsgAddStakeResponse'), MsgAddStakeResponse, {})
      },
    } satisfies MsgRoute<MsgAddStake>,
    {
      typeUrl: url('MsgUpdateModels'),
      type: MsgUpdateModels,
      signers: signer,
      validate(m: MsgUpdateModels) {
        checkSigner(m)
        modelIds(m.modelIds)
      },
      handle(ctx: Context, m: MsgUpdateModels) {
        keeper.updateModels(ctx, m.address, modelIds(m.modelIds))
        return ok(url('MsgUpdateModelsResponse'), MsgUpdateModelsResponse, {})
      },
    } satisfies MsgRoute<MsgUpdateModels>,
    {
      typeUrl: url('MsgPause'),
      type: MsgPause,
      signers: signer,
      validate: checkSigner,
      handle(ctx: Context, m: MsgPause) {
        keeper.pause(ctx, m.address)
        return ok(url('MsgPauseResponse'), MsgPauseResponse, {})
      },
    } satisfies MsgRoute<MsgPause>,
    {
      typeUrl: url('MsgResume'),
      type: MsgResume,
      signers: signer,
      validate: checkSigner,
      handle(ctx: Context, m: MsgResume) {
        keeper.resume(ctx, m.address)
        return ok(url('MsgResumeResponse'), MsgResumeResponse, {})
      },
    } satisfies MsgRoute<MsgResume>,
    {
      typeUrl: url('MsgQuit'),
      type: MsgQuit,
      signers: signer,
      validate: checkSigner,
      handle(ctx: Context, m: MsgQuit) {
        keeper.quit(ctx, m.address)
        return ok(url('MsgQuitResponse'), MsgQuitResponse, {})
      },
    } satisfies MsgRoute<MsgQuit>,
  ]
}
