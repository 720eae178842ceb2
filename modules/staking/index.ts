import type { Context } from '../../chain/context.ts'
import { mergeParams } from '../../chain/genesis.ts'
import { SdkErrors } from '../../chain/errors.ts'
import { decodeQueryRequest, type Module, type MsgRoute, type ProtoType, type QueryRoute } from '../../chain/module.ts'
import { checkAddress } from '../../chain/tx/decode.ts'
import {
  QueryNodeRecordRequest, QueryNodeRecordResponse, QueryNodeRequest, QueryNodeResponse, QueryNodesRequest, QueryNodesResponse, QueryParamsResponse,
} from '../../proto/gen/beryl/staking/v1/query.ts'
import {
  MsgAddStake, MsgAddStakeResponse, MsgJoin, MsgJoinResponse, MsgPause, MsgPauseResponse, MsgQuit, MsgQuitResponse,
  MsgResume, MsgResumeResponse, MsgUpdateModels, MsgUpdateModelsResponse,
} from '../../proto/gen/beryl/staking/v1/tx.ts'
import { Node, NodeStatus, Params } from '../../proto/gen/beryl/staking/v1/types.ts'
import { BECH32_PREFIX } from '../auth/index.ts'
import { DEFAULT_PARAMS, MODULE, NODE_PREFIX, StakingErrors, StakingKeeper } from './keeper.ts'

export { StakingKeeper, StakingErrors, DEFAULT_PARAMS as DEFAULT_STAKING_PARAMS, COMMUNITY_POOL } from './keeper.ts'
export type { NodeHook } from './keeper.ts'
export { Node, NodeRecord, NodeStatus } from '../../proto/gen/beryl/staking/v1/types.ts'

const MODEL_ID_RE = /^[0-9a-f]{64}$/
const VERSION_RE = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/
export const MAX_MODELS = 64

/** Model ids are sha256 hex (see docs/decisions/0007); returned sorted and unique. */
export function validateModelIds(ids: string[]): string[] {
  if (ids.length === 0) throw StakingErrors.InvalidNode.with('a node must hold at least one model')
  if (ids.length > MAX_MODELS) throw StakingErrors.InvalidNode.with(`at most ${MAX_MODELS} models`)
  for (const id of ids) if (!MODEL_ID_RE.test(id)) throw StakingErrors.InvalidNode.with(`invalid model id ${JSON.stringify(id)} (64 lowercase hex digits)`)
  const sorted = [...new Set(ids)].sort()
  if (sorted.length !== ids.length) throw StakingErrors.InvalidNode.with('duplicate model id')
  return sorted
}

export function parseAmount(s: string, what: string): bigint {
  if (!/^\d{1,40}$/.test(s)) throw StakingErrors.InvalidAmount.with(`${what} must be a whole number of uberyl, got ${JSON.stringify(s)}`)
  const v = BigInt(s)
  if (v <= 0n) throw StakingErrors.InvalidAmount.with(`${what} must be positive`)
  return v
}

function validateJoin(m: MsgJoin): void {
  checkAddress(m.address, BECH32_PREFIX)
  if (!m.gpuName || m.gpuName.length > 128 || /[\u0000-\u001f]/.test(m.gpuName)) throw StakingErrors.InvalidNode.with('gpu_name must be 1..128 printable characters')
  if (!Number.isInteger(m.gpuVramGb) || m.gpuVramGb < 1 || m.gpuVramGb > 4096) throw StakingErrors.InvalidNode.with('gpu_vram_gb must be 1..4096')
  if (!VERSION_RE.test(m.runnerVersion)) throw StakingErrors.InvalidNode.with(`runner_version must be "major.minor.patch", got ${JSON.stringify(m.runnerVersion)}`)
  validateModelIds(m.modelIds)
  parseAmount(m.stake, 'stake')
}

const ok = <T>(typeUrl: string, type: ProtoType<T>, value: T) => ({ typeUrl, value: type.encode(value).finish() })
const url = (name: string) => `/beryl.staking.v1.${name}`
const signer = (m: { address: string }) => [m.address]
const checkSigner = (m: { address: string }) => { checkAddress(m.address, BECH32_PREFIX) }


export function stakingModule(keeper: StakingKeeper): Module {
  const msgs: MsgRoute[] = [
    {
      typeUrl: url('MsgJoin'), type: MsgJoin, signers: signer, validate: validateJoin,
      handle(ctx: Context, m: MsgJoin) {
        keeper.join(ctx, { address: m.address, gpuName: m.gpuName, gpuVramGb: m.gpuVramGb, runnerVersion: m.runnerVersion, modelIds: validateModelIds(m.modelIds), stake: m.stake })
        return ok(url('MsgJoinResponse'), MsgJoinResponse, {})
      },
    } satisfies MsgRoute<MsgJoin>,
    {
      typeUrl: url('MsgAddStake'), type: MsgAddStake, signers: signer,
      validate(m: MsgAddStake) { checkSigner(m); parseAmount(m.amount, 'amount') },
      handle(ctx: Context, m: MsgAddStake) {
        keeper.addStake(ctx, m.address, parseAmount(m.amount, 'amount'))
        return ok(url('MsgAddStakeResponse'), MsgAddStakeResponse, {})
      },
    } satisfies MsgRoute<MsgAddStake>,
    {
      typeUrl: url('MsgUpdateModels'), type: MsgUpdateModels, signers: signer,
      validate(m: MsgUpdateModels) { checkSigner(m); validateModelIds(m.modelIds) },
      handle(ctx: Context, m: MsgUpdateModels) {
        keeper.updateModels(ctx, m.address, validateModelIds(m.modelIds))
        return ok(url('MsgUpdateModelsResponse'), MsgUpdateModelsResponse, {})
      },
    } satisfies MsgRoute<MsgUpdateModels>,
    {
      typeUrl: url('MsgPause'), type: MsgPause, signers: signer, validate: checkSigner,
      handle(ctx: Context, m: MsgPause) { keeper.pause(ctx, m.address); return ok(url('MsgPauseResponse'), MsgPauseResponse, {}) },
    } satisfies MsgRoute<MsgPause>,
    {
      typeUrl: url('MsgResume'), type: MsgResume, signers: signer, validate: checkSigner,
      handle(ctx: Context, m: MsgResume) { keeper.resume(ctx, m.address); return ok(url('MsgResumeResponse'), MsgResumeResponse, {}) },
    } satisfies MsgRoute<MsgResume>,
    {
      typeUrl: url('MsgQuit'), type: MsgQuit, signers: signer, validate: checkSigner,
      handle(ctx: Context, m: MsgQuit) { keeper.quit(ctx, m.address); return ok(url('MsgQuitResponse'), MsgQuitResponse, {}) },
    } satisfies MsgRoute<MsgQuit>,
  ]

  const q = (m: string) => `/beryl.staking.v1.Query/${m}`
  const queries: QueryRoute[] = [
    {
      path: q('Node'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodeRequest.decode, data)
        checkAddress(req.address, BECH32_PREFIX)
        const node = keeper.getNode(ctx, req.address)
        if (!node) throw SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = node ${req.address} not found`)
        return QueryNodeResponse.encode({ node }).finish()
      },
    },
    {
      path: q('Nodes'),
      async handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodesRequest.decode, data)
        const limit = req.limit === 0 ? 100 : req.limit
        if (limit > 1000) throw SdkErrors.InvalidRequest.with('limit above 1000')
        const start = req.key.length ? Buffer.concat([NODE_PREFIX, req.key]) : NODE_PREFIX
        const nodes: Node[] = []
        let nextKey: Uint8Array = new Uint8Array()
        let scanned = 0
        for await (const [k, v] of ctx.kv(MODULE).iterate({ start, end: Uint8Array.of(NODE_PREFIX[0]! + 1) })) {
          if (nodes.length === limit || ++scanned > 10_000) { nextKey = k.subarray(1); break }
          const n = Node.decode(v)
          if (req.status !== NodeStatus.NODE_STATUS_UNSPECIFIED && n.status !== req.status) continue
          if (req.gpuName && n.gpuName !== req.gpuName) continue
          nodes.push(n)
        }
        return QueryNodesResponse.encode({ nodes, nextKey }).finish()
      },
    },
    {
      path: q('NodeRecord'),
      handle(ctx, data) {
        const req = decodeQueryRequest(QueryNodeRecordRequest.decode, data)
        checkAddress(req.address, BECH32_PREFIX)
        const record = keeper.getRecord(ctx, req.address)
        if (!record) throw SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = node record ${req.address} not found`)
        return QueryNodeRecordResponse.encode({ record }).finish()
      },
    },
    {
      path: q('Params'),
      handle(ctx) { return QueryParamsResponse.encode({ params: keeper.params(ctx) }).finish() },
    },
  ]

  return {
    name: MODULE,
    msgs,
    queries,
    initGenesis(ctx: Context, state: unknown) {
      const g = (state ?? {}) as { params?: Record<string, unknown>; nodes?: unknown[] }
      const p = mergeParams(Params, DEFAULT_PARAMS, g.params, 'staking')
      parseAmount(p.minStake, 'staking.params.min_stake')
      parseAmount(p.maxStake, 'staking.params.max_stake')
      if (p.unbondingPeriod < 0n) throw new Error('staking.params.unbonding_period must not be negative')
      if (p.slashFractionPpm > 1_000_000) throw new Error('staking.params.slash_fraction_ppm must be at most 1000000')
      keeper.setParams(ctx, p)
      if (g.nodes?.length) throw new Error('staking genesis nodes are not supported: nodes join with MsgJoin')
    },
    endBlock(ctx: Context) { return keeper.returnUnbonded(ctx) },
  }
}
