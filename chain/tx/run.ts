import { createHash } from 'node:crypto'
import { TxMsgData } from 'cosmjs-types/cosmos/base/abci/v1beta1/abci'
import type { Any } from 'cosmjs-types/google/protobuf/any'
import { Context, type BlockInfo, type ExecMode } from '../context.ts'
import { toChainError } from '../errors.ts'
import { event, type Event } from '../events.ts'
import { GasMeter } from '../gas.ts'
import type { MsgRoute } from '../module.ts'
import { CacheStore } from '../store/cache.ts'
import type { KVStore } from '../store/types.ts'
import { runAnte, type AnteOptions } from './ante.ts'
import { decodeTx, type DecodedTx } from './decode.ts'

export interface TxResult {
  code: number
  codespace: string
  log: string
  data: Uint8Array
  gasWanted: bigint
  gasUsed: bigint
  events: Event[]
  /** Set when the tx failed before its messages ran (decode or ante): it had no effect at all. */
  rejected: boolean
  msgResponses: Any[]
}

export interface TxEnv extends AnteOptions {
  routes: Map<string, MsgRoute>
  feeDenom: string
}

// A tx is decoded in CheckTx, again in PrepareProposal and at every RECHECK. Decoding is a pure
// function of its bytes (and the fixed routes), so the result is kept, keyed by content hash.
// Decoded txs are treated as immutable everywhere.
const decodedCache = new Map<string, DecodedTx>()
const DECODED_MAX = 20_000
function decodeCached(env: TxEnv, bytes: Uint8Array): DecodedTx {
  const id = createHash('sha256').update(bytes).digest('base64')
  const hit = decodedCache.get(id)
  if (hit) return hit
  const tx = decodeTx(bytes, env.routes, { feeDenom: env.feeDenom, bech32Prefix: env.bech32Prefix })
  if (decodedCache.size >= DECODED_MAX) decodedCache.delete(decodedCache.keys().next().value!)
  decodedCache.set(id, tx)
  return tx
}

function failure(err: unknown, gasWanted: bigint, gasUsed: bigint, events: Event[], rejected: boolean): TxResult {
  const e = toChainError(err)
  return { code: e.code, codespace: e.codespace, log: e.message, data: new Uint8Array(), gasWanted, gasUsed, events, rejected, msgResponses: [] }
}

/**
 * Runs one transaction against `store`. Decode or ante failure: nothing is written. Message
 * failure: only the ante's writes (fee and sequence) are kept. In CheckTx modes the messages are
 * not run (as in the SDK: the mempool checks who pays, the block decides what happens).
 */
export async function runTx(env: TxEnv, store: KVStore, block: BlockInfo, mode: ExecMode, bytes: Uint8Array): Promise<TxResult> {
  let tx: DecodedTx
  try {
    tx =
      mode === 'simulate' ? decodeTx(bytes, env.routes, { simulate: true, feeDenom: env.feeDenom, bech32Prefix: env.bech32Prefix }) : decodeCached(env, bytes)
  } catch (err) {
    return failure(err, 0n, 0n, [], true)
  }
  const gasWanted = tx.gasLimit
  const meter = new GasMeter(mode === 'simulate' ? undefined : tx.gasLimit)
  const anteStore = new CacheStore(store)
  const anteCtx = new Context(anteStore, meter, block, mode)
  try {
    runAnte(anteCtx, tx, env)
  } catch (err) {
    return failure(err, gasWanted, meter.consumed, [], true)
  }
  anteStore.writeTo(store)
  const events = [...anteCtx.events]
  if (mode === 'check' || mode === 'recheck') {
    return { code: 0, codespace: '', log: '', data: new Uint8Array(), gasWanted, gasUsed: meter.consumed, events, rejected: false, msgResponses: [] }
  }

  const msgStore = new CacheStore(store)
  const msgResponses: Any[] = []
  const msgEvents: Event[] = []
  try {
    for (let i = 0; i < tx.msgs.length; i++) {
      const { typeUrl, msg, route } = tx.msgs[i]!
      const ctx = new Context(msgStore, meter, block, mode)
      const moduleName = typeUrl.split('.')[1] ?? ''
      msgEvents.push(event('message', { action: typeUrl, sender: route.signers(msg)[0] ?? '', module: moduleName }, i))
      const res = await route.handle(ctx, msg)
      for (const e of ctx.events) {
        msgEvents.push({ ...e, attributes: [...e.attributes, { key: 'msg_index', value: String(i), index: true }] })
      }
      msgResponses.push({ typeUrl: res.typeUrl, value: res.value })
    }
  } catch (err) {
    return failure(err, gasWanted, meter.consumed, events, false)
  }
  msgStore.writeTo(store)
  const data = TxMsgData.encode({ data: [], msgResponses }).finish()
  return { code: 0, codespace: '', log: '', data, gasWanted, gasUsed: meter.consumed, events: [...events, ...msgEvents], rejected: false, msgResponses }
}
