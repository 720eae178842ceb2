import type { Context } from '../../chain/context.ts'
import { mergeParams } from '../../chain/genesis.ts'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type Module, type MsgRoute, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import { QueryParamsResponse, QueryQueueRequest, QueryQueueResponse, QueryTaskRequest, QueryTaskResponse, QueryTasksRequest, QueryTasksResponse } from '../../proto/gen/beryl/task/v1/query.ts'
import {
  MsgAttestResult, MsgAttestResultResponse, MsgCancelTask, MsgCancelTaskResponse, MsgCreateTask, MsgCreateTaskResponse,
  MsgReportError, MsgReportErrorResponse, MsgSubmitScore, MsgSubmitScoreResponse, MsgValidateTask, MsgValidateTaskResponse,
} from '../../proto/gen/beryl/task/v1/tx.ts'
import { Params, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { parseAmount, validateModelIds } from '../staking/index.ts'
import { DEFAULT_PARAMS, MODULE, TaskErrors, TaskKeeper } from './keeper.ts'

export { TaskKeeper, TaskErrors, blockRandomness, DEFAULT_PARAMS as DEFAULT_TASK_PARAMS } from './keeper.ts'
export { Task, TaskStatus, TaskType, AbortReason } from '../../proto/gen/beryl/task/v1/types.ts'

const VERSION_RE = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/

const bytes32 = (b: Uint8Array, what: string) => {
  if (b.length !== 32) throw TaskErrors.InvalidTask.with(`${what} must be 32 bytes, got ${b.length}`)
}

function validateCreate(m: MsgCreateTask): void {
  checkAddress(m.creator, BECH32_PREFIX)
  bytes32(m.taskIdCommitment, 'task_id_commitment')
  bytes32(m.nonce, 'nonce')
  bytes32(m.vrfPublicKey, 'vrf_public_key')
  if (m.taskType !== TaskType.TASK_TYPE_IMAGE && m.taskType !== TaskType.TASK_TYPE_TEXT) throw TaskErrors.InvalidTask.with(`unknown task_type ${m.taskType}`)
  try { validateModelIds(m.modelIds) } catch (err) { throw TaskErrors.InvalidTask.with((err as Error).message) }
  if (!Number.isInteger(m.minVramGb) || m.minVramGb > 4096) throw TaskErrors.InvalidTask.with('min_vram_gb must be 0..4096')
  if (m.requiredGpu.length > 128) throw TaskErrors.InvalidTask.with('required_gpu is longer than 128 characters')
  if (m.requiredGpu && (m.requiredGpuVramGb < 1 || m.requiredGpuVramGb > 4096)) throw TaskErrors.InvalidTask.with('required_gpu_vram_gb must be 1..4096 with required_gpu')
  if (!VERSION_RE.test(m.taskVersion)) throw TaskErrors.InvalidTask.with(`task_version must be "major.minor.patch", got ${JSON.stringify(m.taskVersion)}`)
  parseAmount(m.fee, 'fee')
}


export function taskModule(keeper: TaskKeeper): Module {
  const url = (n: string) => `/beryl.task.v1.${n}`
  const msgs: MsgRoute[] = [
    {
      typeUrl: url('MsgCreateTask'), type: MsgCreateTask, signers: (m: MsgCreateTask) => [m.creator], validate: validateCreate,
      handle(ctx: Context, m: MsgCreateTask) {
        const t = keeper.create(ctx, { ...m, modelIds: validateModelIds(m.modelIds), fee: BigInt(m.fee) })
        return { typeUrl: url('MsgCreateTaskResponse'), value: MsgCreateTaskResponse.encode({ samplingRate: t.samplingRate }).finish() }
      },
    } satisfies MsgRoute<MsgCreateTask>,
    {
      typeUrl: url('MsgCancelTask'), type: MsgCancelTask, signers: (m: MsgCancelTask) => [m.creator],
      validate(m: MsgCancelTask) { checkAddress(m.creator, BECH32_PREFIX); bytes32(m.taskIdCommitment, 'task_id_commitment') },
      handle(ctx: Context, m: MsgCancelTask) {
        keeper.cancel(ctx, m.creator, m.taskIdCommitment)
        return { typeUrl: url('MsgCancelTaskResponse'), value: MsgCancelTaskResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgCancelTask>,
    {
      typeUrl: url('MsgSubmitScore'), type: MsgSubmitScore, signers: (m: MsgSubmitScore) => [m.node],
      validate(m: MsgSubmitScore) {
        checkAddress(m.node, BECH32_PREFIX); bytes32(m.taskIdCommitment, 'task_id_commitment')
        if (m.score.length === 0 || m.score.length > 4096) throw TaskErrors.InvalidScore.with('score must be 1..4096 bytes')
      },
      handle(ctx: Context, m: MsgSubmitScore) {
        keeper.submitScore(ctx, m.node, m.taskIdCommitment, m.score)
        return { typeUrl: url('MsgSubmitScoreResponse'), value: MsgSubmitScoreResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgSubmitScore>,
    {
      typeUrl: url('MsgReportError'), type: MsgReportError, signers: (m: MsgReportError) => [m.node],
      validate(m: MsgReportError) { checkAddress(m.node, BECH32_PREFIX); bytes32(m.taskIdCommitment, 'task_id_commitment') },
      handle(ctx: Context, m: MsgReportError) {
        keeper.reportError(ctx, m.node, m.taskIdCommitment, m.error)
        return { typeUrl: url('MsgReportErrorResponse'), value: MsgReportErrorResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgReportError>,
    {
      typeUrl: url('MsgValidateTask'), type: MsgValidateTask, signers: (m: MsgValidateTask) => [m.creator],
      validate(m: MsgValidateTask) {
        checkAddress(m.creator, BECH32_PREFIX)
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
      typeUrl: url('MsgAttestResult'), type: MsgAttestResult, signers: (m: MsgAttestResult) => [m.attester],
      validate(m: MsgAttestResult) { checkAddress(m.attester, BECH32_PREFIX); bytes32(m.taskIdCommitment, 'task_id_commitment') },
      handle(ctx: Context, m: MsgAttestResult) {
        keeper.attest(ctx, m.attester, m.taskIdCommitment, m.resultHash)
        return { typeUrl: url('MsgAttestResultResponse'), value: MsgAttestResultResponse.encode({}).finish() }
      },
    } satisfies MsgRoute<MsgAttestResult>,
  ]
  const q = (n: string) => `/beryl.task.v1.Query/${n}`
  const queries: QueryRoute[] = [
    {
      path: q('Task'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryTaskRequest.decode, data)
        const task = keeper.getTask(ctx, req.taskIdCommitment)
        if (!task) throw SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = task ${Buffer.from(req.taskIdCommitment).toString('hex')} not found`)
        return QueryTaskResponse.encode({ task }).finish()
      },
    },
    {
      path: q('Tasks'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryTasksRequest.decode, data)
        if (!req.creator && !req.node && !req.hasStatus) throw SdkErrors.InvalidRequest.with('give a creator, a node or a status')
        if (req.creator) checkAddress(req.creator, BECH32_PREFIX)
        if (req.node) checkAddress(req.node, BECH32_PREFIX)
        const limit = req.limit === 0 ? 100 : req.limit
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('limit above 1000')
        const r = await keeper.listTasks(ctx, { creator: req.creator || undefined, node: req.node || undefined, status: req.hasStatus ? req.status : undefined, key: req.key, limit })
        return QueryTasksResponse.encode(r).finish()
      },
    },
    {
      path: q('Queue'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryQueueRequest.decode, data)
        const limit = req.limit === 0 ? 100 : Math.min(req.limit, 1000)
        return QueryQueueResponse.encode({ tasks: await keeper.queue(ctx, limit) }).finish()
      },
    },
    { path: q('Params'), handle(ctx) { return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish() } },
  ]
  return {
    name: MODULE,
    msgs,
    queries,
    initGenesis(ctx: Context, state: unknown) {
      const g = (state ?? {}) as { params?: Record<string, unknown> }
      const p = mergeParams(Params, DEFAULT_PARAMS, g.params, 'task')
      for (const a of p.attesters) checkAddress(a, BECH32_PREFIX)
      if (p.minExecutionTimeout <= 0n || p.maxExecutionTimeout < p.minExecutionTimeout) throw new Error('task params: need 0 < min_execution_timeout <= max_execution_timeout')
      keeper.setParams(ctx, p)
    },
    endBlock(ctx: Context) { return keeper.endBlock(ctx) },
  }
}
