import { toBech32 } from '@cosmjs/encoding'
import {
  GetBlockByHeightRequest,
  GetBlockByHeightResponse,
  GetLatestBlockResponse,
  GetLatestValidatorSetRequest,
  GetLatestValidatorSetResponse,
  GetNodeInfoResponse,
  GetSyncingResponse,
  GetValidatorSetByHeightRequest,
  GetValidatorSetByHeightResponse,
  type Validator,
} from 'cosmjs-types/cosmos/base/tendermint/v1beta1/query'
import { PubKey as Ed25519PubKey } from 'cosmjs-types/cosmos/crypto/ed25519/keys'
import { PubKey as Secp256k1PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys'
import {
  BroadcastMode,
  BroadcastTxRequest,
  BroadcastTxResponse,
  GetBlockWithTxsRequest,
  GetBlockWithTxsResponse,
  GetTxsEventRequest,
  GetTxsEventResponse,
  OrderBy,
} from 'cosmjs-types/cosmos/tx/v1beta1/service'
import { AuthInfo, Tx, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { Block } from 'cosmjs-types/tendermint/types/block'
import type { BlockID } from 'cosmjs-types/tendermint/types/types'
import { SdkErrors } from '../errors.ts'
import { decodeQueryRequest, type QueryRoute } from '../module.ts'
import { cometRpc, txResponseFromRpc } from '../txservice.ts'

/** Page limits of the CometBFT-backed lists (CometBFT itself caps `per_page` at 100). */
const MAX_TXS_PER_PAGE = 100n
const MAX_VALIDATORS_PER_PAGE = 100n

export interface CometServiceDeps {
  cometRpcUrl: string
  bech32Prefix: string
  appName: string
  appVersion: string
}

/**
 * `cosmos.base.tendermint.v1beta1.Service` and the parts of `cosmos.tx.v1beta1.Service` that read
 * CometBFT (GetTxsEvent, GetBlockWithTxs) or write to it (BroadcastTx), served from CometBFT's
 * JSON-RPC as the SDK serves them from its in-process CometBFT. They are node routes of the gRPC and
 * REST servers, not ABCI queries (an ABCI query must not call back into CometBFT's mempool).
 */
export function cometServiceRoutes(deps: CometServiceDeps): QueryRoute[] {
  const rpc = (method: string, params: Record<string, string> = {}) => cometRpc(deps.cometRpcUrl, method, params)
  const tm = (m: string) => `/cosmos.base.tendermint.v1beta1.Service/${m}`
  const txs = (m: string) => `/cosmos.tx.v1beta1.Service/${m}`

  const blockAt = async (height?: bigint) => {
    if (height !== undefined && height <= 0n)
      throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = requested block height must be greater than 0')
    const r = await rpc('block', height === undefined ? {} : { height: String(height) })
    if (!r) throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = requested block height ${height} is bigger than the chain length`)
    return { blockId: blockIdFromRpc(r.block_id), block: blockFromRpc(r.block) }
  }

  const validatorSet = async (height: bigint | undefined, page: { offset?: bigint; limit?: bigint } | undefined) => {
    const limit = page?.limit && page.limit > 0n ? page.limit : MAX_VALIDATORS_PER_PAGE
    if (limit > MAX_VALIDATORS_PER_PAGE) throw SdkErrors.InvalidRequest.with(`page limit ${limit} exceeds ${MAX_VALIDATORS_PER_PAGE}`)
    const offset = page?.offset ?? 0n
    if (offset % limit !== 0n) throw SdkErrors.InvalidRequest.with('offset must be a multiple of limit for validator sets')
    const params: Record<string, string> = { page: String(offset / limit + 1n), per_page: String(limit) }
    if (height !== undefined) params.height = String(height)
    const r = await rpc('validators', params)
    if (!r) throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = no validator set at height ${height}`)
    const validators: Validator[] = (r.validators ?? []).map((v: any) => ({
      address: toBech32(`${deps.bech32Prefix}valcons`, Buffer.from(v.address, 'hex')),
      pubKey: pubKeyAny(v.pub_key),
      votingPower: BigInt(v.voting_power),
      proposerPriority: BigInt(v.proposer_priority),
    }))
    return { blockHeight: BigInt(r.block_height), validators, pagination: { nextKey: new Uint8Array(), total: BigInt(r.total ?? validators.length) } }
  }

  return [
    {
      path: tm('GetNodeInfo'),
      async handle() {
        const s = await rpc('status')
        const n = s.node_info
        return GetNodeInfoResponse.encode({
          defaultNodeInfo: {
            protocolVersion: { p2p: BigInt(n.protocol_version.p2p), block: BigInt(n.protocol_version.block), app: BigInt(n.protocol_version.app) },
            defaultNodeId: n.id,
            listenAddr: n.listen_addr,
            network: n.network,
            version: n.version,
            channels: Buffer.from(n.channels ?? '', 'hex'),
            moniker: n.moniker,
            other: { txIndex: n.other?.tx_index ?? '', rpcAddress: n.other?.rpc_address ?? '' },
          },
          applicationVersion: {
            name: deps.appName,
            appName: deps.appName,
            version: deps.appVersion,
            gitCommit: '',
            buildTags: '',
            goVersion: `node ${process.versions.node}`,
            buildDeps: [],
            cosmosSdkVersion: '',
          },
        }).finish()
      },
    },
    {
      path: tm('GetSyncing'),
      async handle() {
        const s = await rpc('status')
        return GetSyncingResponse.encode({ syncing: !!s.sync_info.catching_up }).finish()
      },
    },
    {
      path: tm('GetLatestBlock'),
      async handle() {
        return GetLatestBlockResponse.encode(await blockAt()).finish()
      },
    },
    {
      path: tm('GetBlockByHeight'),
      async handle(_ctx, data) {
        const req = decodeQueryRequest(GetBlockByHeightRequest.decode, data)
        return GetBlockByHeightResponse.encode(await blockAt(req.height)).finish()
      },
    },
    {
      path: tm('GetLatestValidatorSet'),
      async handle(_ctx, data) {
        const req = decodeQueryRequest(GetLatestValidatorSetRequest.decode, data)
        return GetLatestValidatorSetResponse.encode(await validatorSet(undefined, req.pagination)).finish()
      },
    },
    {
      path: tm('GetValidatorSetByHeight'),
      async handle(_ctx, data) {
        const req = decodeQueryRequest(GetValidatorSetByHeightRequest.decode, data)
        if (req.height <= 0n) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = requested block height must be greater than 0')
        return GetValidatorSetByHeightResponse.encode(await validatorSet(req.height, req.pagination)).finish()
      },
    },
    {
      path: txs('GetTxsEvent'),
      async handle(_ctx, data) {
        const req = decodeQueryRequest(GetTxsEventRequest.decode, data)
        const query = req.query || req.events.join(' AND ')
        if (!query) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = query cannot be empty')
        if (query.length > 1024) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = query longer than 1024 characters')
        const limit = req.limit > 0n ? req.limit : req.pagination?.limit && req.pagination.limit > 0n ? req.pagination.limit : 100n
        if (limit > MAX_TXS_PER_PAGE) throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = limit ${limit} exceeds ${MAX_TXS_PER_PAGE}`)
        const page = req.page > 0n ? req.page : (req.pagination?.offset ?? 0n) / limit + 1n
        const r = await rpcPost(deps.cometRpcUrl, 'tx_search', {
          query,
          page: String(page),
          per_page: String(limit),
          order_by: req.orderBy === OrderBy.ORDER_BY_DESC ? 'desc' : 'asc',
        })
        const found: any[] = r?.txs ?? []
        const times = await blockTimes(
          rpc,
          found.map((t) => String(t.height)),
        )
        const responses = found.map((t) => txResponseFromRpc(t, times.get(String(t.height)) ?? ''))
        return GetTxsEventResponse.encode({
          txs: responses.map((x) => x.tx),
          txResponses: responses.map((x) => x.txResponse),
          pagination: { nextKey: new Uint8Array(), total: BigInt(r?.total_count ?? 0) },
          total: BigInt(r?.total_count ?? 0),
        }).finish()
      },
    },
    {
      path: txs('BroadcastTx'),
      async handle(_ctx, data) {
        const req = decodeQueryRequest(BroadcastTxRequest.decode, data)
        if (req.txBytes.length === 0) throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = invalid empty tx')
        if (req.mode === BroadcastMode.BROADCAST_MODE_UNSPECIFIED)
          throw SdkErrors.InvalidRequest.with('rpc error: code = InvalidArgument desc = supported types: sync, async')
        const method = req.mode === BroadcastMode.BROADCAST_MODE_ASYNC ? 'broadcast_tx_async' : 'broadcast_tx_sync'
        const r = await rpcPost(deps.cometRpcUrl, method, { tx: Buffer.from(req.txBytes).toString('base64') })
        return BroadcastTxResponse.encode({
          txResponse: {
            height: 0n,
            txhash: String(r.hash ?? '').toUpperCase(),
            codespace: r.codespace ?? '',
            code: r.code ?? 0,
            data: r.data ? Buffer.from(r.data, 'base64').toString('hex').toUpperCase() : '',
            rawLog: r.log ?? '',
            logs: [],
            info: '',
            gasWanted: 0n,
            gasUsed: 0n,
            timestamp: '',
            events: [],
          },
        }).finish()
      },
    },
    {
      path: txs('GetBlockWithTxs'),
      async handle(_ctx, data) {
        const req = decodeQueryRequest(GetBlockWithTxsRequest.decode, data)
        const { blockId, block } = await blockAt(req.height)
        const limit = req.pagination?.limit && req.pagination.limit > 0n ? req.pagination.limit : 100n
        if (limit > MAX_TXS_PER_PAGE) throw SdkErrors.InvalidRequest.with(`page limit ${limit} exceeds ${MAX_TXS_PER_PAGE}`)
        const offset = req.pagination?.offset ?? 0n
        const all = block.data.txs
        if (offset > BigInt(all.length)) throw SdkErrors.InvalidRequest.with(`out of range: cannot paginate ${all.length} txs with offset ${offset}`)
        const page = all.slice(Number(offset), Number(offset + limit))
        return GetBlockWithTxsResponse.encode({
          txs: page.map(decodeTx),
          blockId,
          block,
          pagination: { nextKey: new Uint8Array(), total: BigInt(all.length) },
        }).finish()
      },
    },
  ]
}

function decodeTx(bytes: Uint8Array): Tx {
  try {
    const raw = TxRaw.decode(bytes)
    return { body: TxBody.decode(raw.bodyBytes), authInfo: AuthInfo.decode(raw.authInfoBytes), signatures: raw.signatures }
  } catch {
    return Tx.fromPartial({})
  }
}

async function blockTimes(rpc: (m: string, p?: Record<string, string>) => Promise<any>, heights: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const h of new Set(heights)) {
    const b = await rpc('header', { height: h }).catch(() => undefined)
    out.set(h, b?.header?.time ?? '')
  }
  return out
}

/** A JSON-RPC POST (broadcasts carry the tx in the body, not the URL). */
async function rpcPost(url: string, method: string, params: Record<string, string>): Promise<any> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    throw SdkErrors.Logic.with(`rpc error: code = Unavailable desc = CometBFT RPC at ${url} is unreachable (${(err as Error).message})`)
  }
  const body = (await res.json()) as { result?: unknown; error?: { data?: string; message?: string } }
  if (body.error) throw SdkErrors.InvalidRequest.with(`rpc error: code = InvalidArgument desc = ${body.error.data ?? body.error.message}`)
  return body.result
}

const hex = (s: string | undefined) => Buffer.from(s ?? '', 'hex')

/** "2026-11-30T15:00:00.123456789Z" → Timestamp, keeping the nanoseconds JavaScript dates drop. */
export function timestampFromRfc3339(s: string): { seconds: bigint; nanos: number } {
  const ms = Date.parse(s)
  if (Number.isNaN(ms)) return { seconds: 0n, nanos: 0 }
  const frac = /\.(\d+)Z$/.exec(s)?.[1] ?? ''
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: Number((frac + '000000000').slice(0, 9)) }
}

function blockIdFromRpc(id: any): BlockID {
  return { hash: hex(id?.hash), partSetHeader: { total: Number(id?.parts?.total ?? 0), hash: hex(id?.parts?.hash) } }
}

/** CometBFT's JSON block → the protobuf `tendermint.types.Block` the SDK's services return. */
export function blockFromRpc(b: any): Block {
  const h = b.header
  return {
    header: {
      version: { block: BigInt(h.version?.block ?? 0), app: BigInt(h.version?.app ?? 0) },
      chainId: h.chain_id,
      height: BigInt(h.height),
      time: timestampFromRfc3339(h.time),
      lastBlockId: blockIdFromRpc(h.last_block_id),
      lastCommitHash: hex(h.last_commit_hash),
      dataHash: hex(h.data_hash),
      validatorsHash: hex(h.validators_hash),
      nextValidatorsHash: hex(h.next_validators_hash),
      consensusHash: hex(h.consensus_hash),
      appHash: hex(h.app_hash),
      lastResultsHash: hex(h.last_results_hash),
      evidenceHash: hex(h.evidence_hash),
      proposerAddress: hex(h.proposer_address),
    },
    data: { txs: (b.data?.txs ?? []).map((t: string) => Buffer.from(t, 'base64')) },
    evidence: { evidence: [] },
    lastCommit: b.last_commit
      ? {
          height: BigInt(b.last_commit.height),
          round: Number(b.last_commit.round),
          blockId: blockIdFromRpc(b.last_commit.block_id),
          signatures: (b.last_commit.signatures ?? []).map((s: any) => ({
            blockIdFlag: Number(s.block_id_flag),
            validatorAddress: hex(s.validator_address),
            timestamp: timestampFromRfc3339(s.timestamp ?? ''),
            signature: Buffer.from(s.signature ?? '', 'base64'),
          })),
        }
      : undefined,
  }
}

function pubKeyAny(pk: { type: string; value: string } | undefined) {
  if (!pk) return undefined
  const key = Buffer.from(pk.value, 'base64')
  if (pk.type === 'tendermint/PubKeySecp256k1') return { typeUrl: '/cosmos.crypto.secp256k1.PubKey', value: Secp256k1PubKey.encode({ key }).finish() }
  return { typeUrl: '/cosmos.crypto.ed25519.PubKey', value: Ed25519PubKey.encode({ key }).finish() }
}
