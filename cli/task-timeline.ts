// A task's timeline for `beryld task show`: its state changes and payments, read back from the
// node's event indexes (CometBFT tx_search, block_search, block_results).
import { nodeUrl, type ClientFlags } from './client.ts'

/** One state change of a task, as its `task_status` event (or `task_created`, from null to TASK_STATUS_QUEUED) recorded it. */
export interface TimelineEntry {
  height: number
  /** The block's time (ISO 8601). */
  time: string
  from: string | null
  to: string
  reason?: string
  node?: string
  /** 'tx': emitted by the transaction `txhash`; 'block': by the block itself (BeginBlock/EndBlock: dispatch, timeouts). */
  source: 'tx' | 'block'
  txhash?: string
}

/** One payment out of the task's escrow (a `task_payment` event). */
export interface PaymentEntry {
  height: number
  time: string
  /** 'creator', 'community_pool' or 'node:<address>'. */
  to: string
  amount: string
  reason: string
  source: 'tx' | 'block'
  txhash?: string
}

interface RpcEvent {
  type: string
  attributes?: Array<{ key: string; value: string }>
}
interface RpcTx {
  hash: string
  height: string
  index: number
  tx_result: { code: number; events?: RpcEvent[] }
}
interface RpcBlock {
  block_id: unknown
  block: { header: { height: string; time: string } }
}

/** The RPC base URL: CometBFT's `tcp://` laddr form is reached over http. */
const rpcBase = (f: Pick<ClientFlags, 'home' | 'node'>) =>
  nodeUrl(f)
    .replace(/^tcp:\/\//, 'http://')
    .replace(/\/+$/, '')

/** A CometBFT JSON-RPC call over GET (string parameters must already carry their JSON quotes). */
async function rpcGet<T>(base: string, method: string, params: Record<string, string | number>): Promise<T> {
  const qs = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&')
  let body: { result?: T; error?: { message: string; data?: string } }
  try {
    const res = await fetch(`${base}/${method}${qs ? `?${qs}` : ''}`, { signal: AbortSignal.timeout(20_000) })
    body = (await res.json()) as typeof body
  } catch (err) {
    throw new Error(`cannot reach a Beryl node at ${base} (${(err as Error).message}); is it running? (--node sets the address)`)
  }
  if (body.error) throw new Error(`${method}: ${body.error.message}${body.error.data ? `: ${body.error.data}` : ''}`)
  return body.result as T
}

/** All pages of a tx_search or block_search (CometBFT caps a page at 100). */
async function searchAll<T>(base: string, method: 'tx_search' | 'block_search', query: string, field: 'txs' | 'blocks'): Promise<T[]> {
  const out: T[] = []
  for (let page = 1; page <= 100; page++) {
    const r = await rpcGet<Record<string, unknown> & { total_count: string }>(base, method, {
      query: JSON.stringify(query),
      page,
      per_page: 100,
      order_by: '"asc"',
    })
    const items = (r[field] as T[] | undefined) ?? []
    out.push(...items)
    if (items.length === 0 || out.length >= Number(r.total_count)) break
  }
  return out
}

const attrs = (e: RpcEvent): Record<string, string> => Object.fromEntries((e.attributes ?? []).map((a) => [a.key, a.value]))
const isoTime = (t: string) => {
  const d = new Date(t)
  return Number.isNaN(d.getTime()) ? t : d.toISOString()
}

/**
 * The task's state changes and payments, from the node's event indexes: the transactions that
 * emitted a `task_status` or `task_created` event for it (tx_search) and the blocks whose
 * FinalizeBlock events did (block_search + block_results), each with its block's height and time.
 */
export async function taskTimeline(f: Pick<ClientFlags, 'home' | 'node'>, hex: string): Promise<{ timeline: TimelineEntry[]; payments: PaymentEntry[] }> {
  const base = rpcBase(f)
  const [statusTxs, createdTxs, blocks] = await Promise.all([
    searchAll<RpcTx>(base, 'tx_search', `task_status.task='${hex}'`, 'txs'),
    searchAll<RpcTx>(base, 'tx_search', `task_created.task='${hex}'`, 'txs'),
    searchAll<RpcBlock>(base, 'block_search', `task_status.task='${hex}'`, 'blocks'),
  ])
  const txs = new Map<string, RpcTx>()
  for (const t of [...statusTxs, ...createdTxs]) txs.set(t.hash, t)

  const times = new Map<number, string>()
  for (const b of blocks) times.set(Number(b.block.header.height), isoTime(b.block.header.time))
  const missing = [...new Set([...txs.values()].map((t) => Number(t.height)))].filter((h) => !times.has(h))
  await Promise.all(
    missing.map(async (h) => {
      const r = await rpcGet<{ header: { time: string } }>(base, 'header', { height: h })
      times.set(h, isoTime(r.header.time))
    }),
  )

  // Order within a height: BeginBlock events, then the transactions in block order, then EndBlock events.
  type Found = { height: number; phase: number; tx: number; i: number; e: RpcEvent; source: 'tx' | 'block'; txhash?: string }
  const found: Found[] = []
  for (const t of txs.values()) {
    ;(t.tx_result.events ?? []).forEach((e, i) => found.push({ height: Number(t.height), phase: 1, tx: t.index, i, e, source: 'tx', txhash: t.hash }))
  }
  await Promise.all(
    blocks.map(async (b) => {
      const height = Number(b.block.header.height)
      const r = await rpcGet<{ finalize_block_events?: RpcEvent[] }>(base, 'block_results', { height })
      ;(r.finalize_block_events ?? []).forEach((e, i) => found.push({ height, phase: attrs(e).mode === 'BeginBlock' ? 0 : 2, tx: 0, i, e, source: 'block' }))
    }),
  )
  found.sort((a, b) => a.height - b.height || a.phase - b.phase || a.tx - b.tx || a.i - b.i)

  const timeline: TimelineEntry[] = []
  const payments: PaymentEntry[] = []
  for (const x of found) {
    const a = attrs(x.e)
    if (a.task !== hex) continue
    const where = { source: x.source, ...(x.txhash ? { txhash: x.txhash } : {}) }
    const time = times.get(x.height) ?? ''
    if (x.e.type === 'task_status') {
      timeline.push({
        height: x.height,
        time,
        from: a.from ?? null,
        to: a.to ?? '',
        ...(a.reason ? { reason: a.reason } : {}),
        ...(a.node ? { node: a.node } : {}),
        ...where,
      })
    } else if (x.e.type === 'task_created') {
      timeline.push({ height: x.height, time, from: null, to: 'TASK_STATUS_QUEUED', ...where })
    } else if (x.e.type === 'task_payment') {
      payments.push({ height: x.height, time, to: a.to ?? '', amount: a.amount ?? '', reason: a.reason ?? '', ...where })
    }
  }
  return { timeline, payments }
}

const short = (s: string) => s.replace('TASK_STATUS_', '').toLowerCase()
/** An ISO time without its fraction of a second. */
export const secs = (iso: string) => iso.replace(/\.\d+Z$/, 'Z')
const shortHash = (h: string) => `${h.slice(0, 8)}…`

/** The timeline and payments as `task show` prints them. */
export function timelineText(timeline: TimelineEntry[], payments: PaymentEntry[]): string {
  const hw = Math.max(1, ...[...timeline, ...payments].map((e) => String(e.height).length))
  const at = (e: { height: number; time: string }) => `  h ${String(e.height).padEnd(hw)}  ${secs(e.time).padEnd(20)}`
  const via = (e: { source: string; txhash?: string }) => (e.txhash ? `(tx ${shortHash(e.txhash)})` : '(block)')
  const lines = ['timeline']
  if (!timeline.length) lines.push('  (no events found: the node may not index events, or has pruned them)')
  const changes = timeline.map(
    (e) => `${e.from ? short(e.from) : 'created'} → ${short(e.to)}${e.reason ? ` (${e.reason.replace('ABORT_REASON_', '').toLowerCase()})` : ''}`,
  )
  const cw = Math.max(0, ...changes.map((c) => c.length))
  const nodes = timeline.map((e, i) => (e.node && (i === 0 || timeline[i - 1]!.node !== e.node) ? `node ${e.node}` : ''))
  const nw = Math.max(0, ...nodes.map((n) => n.length))
  timeline.forEach((e, i) => lines.push(`${at(e)}  ${changes[i]!.padEnd(cw)}  ${nw ? `${nodes[i]!.padEnd(nw)}  ` : ''}${via(e)}`))
  if (payments.length) {
    lines.push('payments')
    for (const p of payments) lines.push(`${at(p)}  ${p.to}  ${p.amount}  (${p.reason.replace(/_/g, ' ')}) ${via(p)}`)
  }
  return lines.join('\n')
}
