import type { Context } from '../../chain/context.ts'
import type { MsgRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import {
  MsgAttestResult,
  MsgAttestResultResponse,
  MsgCancelTask,
  MsgCancelTaskResponse,
  MsgCreateTask,
  MsgCreateTaskResponse,
  MsgRevealResult,
  MsgRevealResultResponse,
  MsgSubmitScore,
  MsgSubmitScoreResponse,
  MsgValidateTask,
  MsgValidateTaskResponse,
} from '../../proto/gen/beryl/task/v1/tx.ts'
import { TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { parseAmount } from '../common/amounts.ts'
import { checkVersion, validateModelIds } from '../common/models.ts'
import { TaskErrors } from './errors.ts'
import type { TaskKeeper } from './keeper.ts'

const bytes32 = (b: Uint8Array, what: string) => {
  if (b.length !== 32) throw TaskErrors.InvalidTask.with(`${what} must be 32 bytes, got ${b.length}`)
}
const modelIds = (ids: string[]) => validateModelIds(ids, TaskErrors.InvalidTask)

function validateCreate(m: MsgCreateTask): void {
  checkAddress(m.creator, BECH32_PREFIX)
  bytes32(m.taskIdCommitment, 'task_id_commitment')
  bytes32(m.nonce, 'nonce')
  bytes32(m.vrfPublicKey, 'vrf_public_key')
  if (m.taskType !== TaskType.TASK_TYPE_IMAGE && m.taskType !== TaskType.TASK_TYPE_TEXT) throw TaskErrors.InvalidTask.with(`unknown task_type ${m.taskType}`)
  modelIds(m.modelIds)
  // One model per task: a model id is the hash of a whole pipeline's manifest, and one model lets the
  // chain count the nodes meeting every filter exactly (docs/decisions/0015).
  if (m.modelIds.length !== 1) throw TaskErrors.InvalidTask.with(`a task names exactly one model id, got ${m.modelIds.length}`)
  if (!Number.isInteger(m.minVramGb) || m.minVramGb > 4096) throw TaskErrors.InvalidTask.with('min_vram_gb must be 0..4096')
  if (m.requiredGpu.length > 128) throw TaskErrors.InvalidTask.with('required_gpu is longer than 128 characters')
  // With required_gpu the VRAM is the registry's; required_gpu_vram_gb may be 0 or must equal it (checked against the registry).
  if (m.requiredGpuVramGb > 4096) throw TaskErrors.InvalidTask.with('required_gpu_vram_gb must be 0..4096')
  checkVersion(m.taskVersion, 'task_version', TaskErrors.InvalidTask)
  parseAmount(m.fee, 'fee', TaskErrors.InvalidTask)
}

const url = (n: string) => `/beryl.task.v1.${n}`

/** beryl.task.v1.Msg: each handler checks, calls the keeper and answers. */
export function taskMsgs(keeper: TaskKeeper): MsgRoute[] {
  return [
    {
      typeUrl: url('MsgCreateTask'),
      type: MsgCreateTask,
      signers: (m: MsgCreateTask) => [m.creator],
      validate: validateCreate,
      async handle(ctx: Context, m: MsgCreateTask) {
        const t = await keeper.create(ctx, { ...m, modelIds: modelIds(m.modelIds), fee: BigInt(m.fee) })
        return { typeUrl: url('MsgCreateTaskResponse'), value: MsgCreateTaskResponse.encode({ samplingRate: t.samplingRate }).finish() }
      },
    } satisfies MsgRoute<MsgCreateTask>,
    {
      typeUrl: url('MsgCancelTask'),
      type: MsgCancelTask,
      signers: (m: MsgCancelTask) => [m.creator],
      validate(m: MsgCancelTask) {
        checkAddress(m.creator, BECH32_PREFIX)
        bytes32(m.taskIdCommitment, 'task_id_commitment')
      },
      async handle(ctx: Context, m: MsgCancelTask) {
        await keeper.cancel(ctx, m.creator, m.taskIdCommitment)
        return { typeUrl: url('MsgCancelTaskResponse'), value: MsgCancelTaskResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgCancelTask>,
    {
      typeUrl: url('MsgSubmitScore'),
      type: MsgSubmitScore,
      signers: (m: MsgSubmitScore) => [m.node],
      validate(m: MsgSubmitScore) {
        checkAddress(m.node, BECH32_PREFIX)
        bytes32(m.taskIdCommitment, 'task_id_commitment')
        if (m.scoreCommitment.length !== 32) throw TaskErrors.InvalidScore.with('score_commitment must be sha256(score ‖ salt): 32 bytes')
      },
      async handle(ctx: Context, m: MsgSubmitScore) {
        await keeper.submitScore(ctx, m.node, m.taskIdCommitment, m.scoreCommitment)
        return { typeUrl: url('MsgSubmitScoreResponse'), value: MsgSubmitScoreResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgSubmitScore>,
    {
      typeUrl: url('MsgRevealResult'),
      type: MsgRevealResult,
      signers: (m: MsgRevealResult) => [m.node],
      validate(m: MsgRevealResult) {
        checkAddress(m.node, BECH32_PREFIX)
        bytes32(m.taskIdCommitment, 'task_id_commitment')
        if (m.salt.length !== 32) throw TaskErrors.InvalidReveal.with(`salt must be 32 bytes, got ${m.salt.length}`)
        if (m.score.length > 4096) throw TaskErrors.InvalidScore.with('score must be at most 4096 bytes')
      },
      async handle(ctx: Context, m: MsgRevealResult) {
        await keeper.revealResult(ctx, m.node, m.taskIdCommitment, m.score, m.salt)
        return { typeUrl: url('MsgRevealResultResponse'), value: MsgRevealResultResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgRevealResult>,
    {
      typeUrl: url('MsgValidateTask'),
      type: MsgValidateTask,
      signers: (m: MsgValidateTask) => [m.creator],
      validate(m: MsgValidateTask) {
        checkAddress(m.creator, BECH32_PREFIX)
        if (m.taskIdCommitments.length !== 1)
          throw TaskErrors.InvalidValidation.with(
            `give exactly one task, got ${m.taskIdCommitments.length}: the chain creates a selected task's validation tasks itself`,
          )
        m.taskIdCommitments.forEach((c, i) => bytes32(c, `task_id_commitments[${i}]`))
        bytes32(m.taskId, 'task_id')
        if (m.vrfProof.length !== 80) throw TaskErrors.InvalidValidation.with(`vrf_proof must be 80 bytes, got ${m.vrfProof.length}`)
      },
      async handle(ctx: Context, m: MsgValidateTask) {
        await keeper.validate(ctx, m.creator, m.taskIdCommitments, m.taskId, m.vrfProof)
        return { typeUrl: url('MsgValidateTaskResponse'), value: MsgValidateTaskResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgValidateTask>,
    {
      typeUrl: url('MsgAttestResult'),
      type: MsgAttestResult,
      signers: (m: MsgAttestResult) => [m.attester],
      validate(m: MsgAttestResult) {
        checkAddress(m.attester, BECH32_PREFIX)
        bytes32(m.taskIdCommitment, 'task_id_commitment')
        if (m.score.length > 4096) throw TaskErrors.InvalidScore.with('score must be at most 4096 bytes')
        if (m.salt.length !== 0 && m.salt.length !== 32) throw TaskErrors.InvalidReveal.with(`salt must be 32 bytes (or empty), got ${m.salt.length}`)
      },
      handle(ctx: Context, m: MsgAttestResult) {
        keeper.attest(ctx, m.attester, m.taskIdCommitment, m.resultHash, m.score, m.salt)
        return { typeUrl: url('MsgAttestResultResponse'), value: MsgAttestResultResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgAttestResult>,
  ]
}
