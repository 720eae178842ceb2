import { GetTxRequest, GetTxResponse, SimulateRequest, SimulateResponse } from 'cosmjs-types/cosmos/tx/v1beta1/service'
import { Tx, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { AuthInfo, TxBody } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { TxResponse } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci'
import type { Event } from 'cosmjs-types/tendermint/abci/types'
import { ChainError, SdkErrors } from './errors.ts'
import type { QueryRoute } from './module.ts'
import type { TxResult } from './tx/run.ts'

const path = (m: string) => `/cosmos.tx.v1beta1.Service/${m}`

export interface TxServiceDeps {
  simulate(txBytes: Uint8Array): Promise<TxResult>
  /** CometBFT's JSON-RPC address, for GetTx (the app keeps no tx index of its own). */
  cometRpcUrl?: string
}

/**
 * The Cosmos tx service. Simulate runs a transaction on a throwaway copy of committed state with
 * the signature check skipped but its gas still charged, so "auto" fees cover the real tx.
 * GetTx reads CometBFT's tx index.
 */
export function txServiceQueries(deps: TxServiceDeps): QueryRoute[] {
  return [
    {
      path: path('Simulate'),
      async handle(_ctx, data) {
        let req: SimulateRequest
        try {
          req = SimulateRequest.decode(data)
        } catch (err) {
          throw SdkErrors.InvalidRequest.with(`undecodable request: ${(err as Error).message}`)
        }
        let bytes = req.txBytes
        if (bytes.length === 0 && req.tx) {
          bytes = TxRaw.encode({
            bodyBytes: TxBody.encode(req.tx.body ?? TxBody.fromPartial({})).finish(),
            authInfoBytes: AuthInfo.encode(req.tx.authInfo ?? AuthInfo.fromPartial({})).finish(),
            signatures: req.tx.signatures,
          }).finish()
        }
        if (bytes.length === 0) throw SdkErrors.InvalidRequest.with('empty tx')
        const r = await deps.simulate(bytes)
        if (r.code !== 0) throw new ChainError(r.codespace, r.code, r.log)
        return SimulateResponse.encode({
          gasInfo: { gasWanted: r.gasWanted, gasUsed: r.gasUsed },
          result: { data: r.data, log: '', events: r.events, msgResponses: r.msgResponses },
        }).finish()
      },
    },
    {
      path: path('GetTx'),
      async handle(_ctx, data) {
        let req: GetTxRequest
        try {
          req = GetTxRequest.decode(data)
        } catch (err) {
          throw SdkErrors.InvalidRequest.with(`undecodable request: ${(err as Error).message}`)
        }
        if (!/^[0-9a-fA-F]{64}$/.test(req.hash)) throw SdkErrors.InvalidRequest.with('tx hash must be 64 hex digits')
        if (!deps.cometRpcUrl) throw SdkErrors.NotSupported.with("GetTx needs the node's CometBFT RPC address")
        const res = await cometRpc(deps.cometRpcUrl, 'tx', { hash: '0x' + req.hash.toUpperCase() })
        if (!res) throw SdkErrors.NotFound.with(`rpc error: code = NotFound desc = tx not found: ${req.hash}`)
        const block = await cometRpc(deps.cometRpcUrl, 'header', { height: String(res.height) })
        return GetTxResponse.encode(txResponseFromRpc(res, block?.header?.time ?? '')).finish()
      },
    },
  ]
}

/** A tx as CometBFT's `tx` and `tx_search` return it → the SDK's Tx and TxResponse. */
export function txResponseFromRpc(res: any, timestamp: string): { tx: Tx; txResponse: TxResponse } {
  const txBytes = Buffer.from(res.tx, 'base64')
  let tx: Tx
  try {
    const raw = TxRaw.decode(txBytes)
    tx = { body: TxBody.decode(raw.bodyBytes), authInfo: AuthInfo.decode(raw.authInfoBytes), signatures: raw.signatures }
  } catch {
    tx = Tx.fromPartial({}) // a block may hold bytes that never decoded (rejected with code 2)
  }
  const r = res.tx_result
  return {
    tx,
    txResponse: {
      height: BigInt(res.height),
      txhash: String(res.hash).toUpperCase(),
      codespace: r.codespace ?? '',
      code: r.code ?? 0,
      data: r.data ? Buffer.from(r.data, 'base64').toString('hex').toUpperCase() : '',
      rawLog: r.log ?? '',
      logs: [],
      info: r.info ?? '',
      gasWanted: BigInt(r.gas_wanted ?? 0),
      gasUsed: BigInt(r.gas_used ?? 0),
      tx: { typeUrl: '/cosmos.tx.v1beta1.Tx', value: Tx.encode(tx).finish() },
      timestamp,
      events: (r.events ?? []).map((e: { type: string; attributes?: Array<{ key: string; value: string; index?: boolean }> }): Event => ({
        type: e.type,
        attributes: (e.attributes ?? []).map((a) => ({ key: a.key, value: a.value ?? '', index: !!a.index })),
      })),
    },
  }
}

/** A CometBFT JSON-RPC GET; undefined when CometBFT says "not found". */
export async function cometRpc(url: string, method: string, params: Record<string, string>): Promise<any> {
  const q = new URLSearchParams(params).toString()
  let res: Response
  try {
    res = await fetch(`${url}/${method}?${q}`, { signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    throw SdkErrors.Logic.with(`rpc error: code = Unavailable desc = CometBFT RPC at ${url} is unreachable (${(err as Error).message})`)
  }
  const body = (await res.json()) as { result?: unknown; error?: { data?: string; message?: string } }
  if (body.error) {
    if (/not found|must be less than or equal to the current blockchain height/i.test(body.error.data ?? '')) return undefined
    throw SdkErrors.Logic.with(`CometBFT ${method}: ${body.error.data ?? body.error.message}`)
  }
  return body.result
}
