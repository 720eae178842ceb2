import type { Command, Option } from 'commander'
import { QueryTaskRequest, QueryTaskResponse } from '../proto/gen/beryl/task/v1/query.ts'
import { Task, TaskType } from '../proto/gen/beryl/task/v1/types.ts'
import { moduleQuery, nodeUrl, print, sendMsg, type ClientFlags, type TxFlags } from './client.ts'
import { STATUSES, describeTask, hexArg, queryTasks, statusName, type TaskListFilters } from './task.ts'
import { readable } from './format.ts'
import { commitmentFor } from './task-ids.ts'

interface Opts { txFlags: (c: Command) => Command; homeOpt: () => Option; nodeOpt: () => Option; outputOpt: () => Option }

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

interface RpcEvent { type: string; attributes?: Array<{ key: string; value: string }> }
interface RpcTx { hash: string; height: string; index: number; tx_result: { code: number; events?: RpcEvent[] } }
interface RpcBlock { block_id: unknown; block: { header: { height: string; time: string } } }

/** The RPC base URL: CometBFT's `tcp://` laddr form is reached over http. */
const rpcBase = (f: Pick<ClientFlags, 'home' | 'node'>) => nodeUrl(f).replace(/^tcp:\/\//, 'http://').replace(/\/+$/, '')

/** A CometBFT JSON-RPC call over GET (string parameters must already carry their JSON quotes). */
async function rpcGet<T>(base: string, method: string, params: Record<string, string | number>): Promise<T> {
  const qs = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')
  let body: { result?: T; error?: { message: string; data?: string } }
  try {
    const res = await fetch(`${base}/${method}${qs ? `?${qs}` : ''}`, { signal: AbortSignal.timeout(20_000) })
    body = await res.json() as typeof body
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
    const r = await rpcGet<Record<string, unknown> & { total_count: string }>(base, method, { query: JSON.stringify(query), page, per_page: 100, order_by: '"asc"' })
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
  await Promise.all(missing.map(async (h) => {
    const r = await rpcGet<{ header: { time: string } }>(base, 'header', { height: h })
    times.set(h, isoTime(r.header.time))
  }))

  // Order within a height: BeginBlock events, then the transactions in block order, then EndBlock events.
  type Found = { height: number; phase: number; tx: number; i: number; e: RpcEvent; source: 'tx' | 'block'; txhash?: string }
  const found: Found[] = []
  for (const t of txs.values()) {
    (t.tx_result.events ?? []).forEach((e, i) => found.push({ height: Number(t.height), phase: 1, tx: t.index, i, e, source: 'tx', txhash: t.hash }))
  }
  await Promise.all(blocks.map(async (b) => {
    const height = Number(b.block.header.height)
    const r = await rpcGet<{ finalize_block_events?: RpcEvent[] }>(base, 'block_results', { height })
    ;(r.finalize_block_events ?? []).forEach((e, i) => found.push({ height, phase: attrs(e).mode === 'BeginBlock' ? 0 : 2, tx: 0, i, e, source: 'block' }))
  }))
  found.sort((a, b) => a.height - b.height || a.phase - b.phase || a.tx - b.tx || a.i - b.i)

  const timeline: TimelineEntry[] = []
  const payments: PaymentEntry[] = []
  for (const x of found) {
    const a = attrs(x.e)
    if (a.task !== hex) continue
    const where = { source: x.source, ...(x.txhash ? { txhash: x.txhash } : {}) }
    const time = times.get(x.height) ?? ''
    if (x.e.type === 'task_status') {
      timeline.push({ height: x.height, time, from: a.from ?? null, to: a.to ?? '', ...(a.reason ? { reason: a.reason } : {}), ...(a.node ? { node: a.node } : {}), ...where })
    } else if (x.e.type === 'task_created') {
      timeline.push({ height: x.height, time, from: null, to: 'TASK_STATUS_QUEUED', ...where })
    } else if (x.e.type === 'task_payment') {
      payments.push({ height: x.height, time, to: a.to ?? '', amount: a.amount ?? '', reason: a.reason ?? '', ...where })
    }
  }
  return { timeline, payments }
}

const short = (s: string) => s.replace('TASK_STATUS_', '').toLowerCase()
const secs = (iso: string) => iso.replace(/\.\d+Z$/, 'Z')
const shortHash = (h: string) => `${h.slice(0, 8)}…`

function timelineText(timeline: TimelineEntry[], payments: PaymentEntry[]): string {
  const hw = Math.max(1, ...[...timeline, ...payments].map((e) => String(e.height).length))
  const at = (e: { height: number; time: string }) => `  h ${String(e.height).padEnd(hw)}  ${secs(e.time).padEnd(20)}`
  const via = (e: { source: string; txhash?: string }) => (e.txhash ? `(tx ${shortHash(e.txhash)})` : '(block)')
  const lines = ['timeline']
  if (!timeline.length) lines.push('  (no events found: the node may not index events, or has pruned them)')
  const changes = timeline.map((e) => `${e.from ? short(e.from) : 'created'} → ${short(e.to)}${e.reason ? ` (${e.reason.replace('ABORT_REASON_', '').toLowerCase()})` : ''}`)
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

/** A module query whose HTTP request failed says which node it could not reach (cosmjs only says "fetch failed"). */
async function reaching<T>(f: Pick<ClientFlags, 'home' | 'node'>, p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    if ((err as Error).message === 'fetch failed') throw new Error(`cannot reach a Beryl node at ${nodeUrl(f)} (fetch failed); is it running? (--node sets the address)`)
    throw err
  }
}

/** Parses a task id commitment argument: 32 bytes of hex, an optional 0x prefix. */
function commitmentArg(s: string): { bytes: Uint8Array; hex: string } {
  let bytes: Uint8Array
  try {
    bytes = hexArg(s, 'a task id commitment')
  } catch {
    throw new Error(`invalid task id ${JSON.stringify(s)}: a task id commitment is 32 bytes of hex (64 hex digits)`)
  }
  return { bytes, hex: Buffer.from(bytes).toString('hex') }
}

/** The task's record; a task the chain does not know is `Error: no task <hex> on chain`. */
async function getTask(f: ClientFlags, c: { bytes: Uint8Array; hex: string }): Promise<Task> {
  let raw: Uint8Array
  try {
    raw = await reaching(f, moduleQuery(f, 'beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: c.bytes }).finish()))
  } catch (err) {
    if (/\(22\)|not found/i.test((err as Error).message) && !/cannot reach/.test((err as Error).message)) throw new Error(`no task ${c.hex} on chain`)
    throw err
  }
  const t = QueryTaskResponse.decode(raw).task
  if (!t) throw new Error(`no task ${c.hex} on chain`)
  return t
}

export function registerTaskViewCommands(task: Command, o: Opts): void {
  const qOpts = (c: Command) => c.addOption(o.homeOpt()).addOption(o.nodeOpt()).addOption(o.outputOpt())

  qOpts(task.command('show').description('a task\'s record and its timeline: every state change and payment, with block heights and times')
    .argument('<task>', 'a task\'s commitment, or the task id `task run` printed (64 hex digits)'))
    .action(async (arg: string, f: ClientFlags) => {
      const c = commitmentArg(commitmentFor(f.home, arg))
      const t = await getTask(f, c)
      const { timeline, payments } = await taskTimeline(f, c.hex)
      print(f, { task: readable(Task.toJSON(t)), timeline, payments }, `${describeTask(t)}\n\n${timelineText(timeline, payments)}`)
    })

  qOpts(task.command('list').description('tasks of a creator, a GPU node or in a status, newest first, one line each')
    .option('--creator <address>', 'tasks created by this account')
    .option('--gpu-node <address>', 'tasks assigned to this GPU node (--node is the RPC address)')
    .option('--status <status>', STATUSES.join(', '))
    .option('--limit <n>', 'how many', '50')
    .option('--page-key <hex>', 'continue after a previous page'))
    .action(async (f: ClientFlags & TaskListFilters) => {
      if (!f.creator && !f.gpuNode && f.status === undefined) throw new Error('give at least one filter: --creator, --gpu-node or --status')
      if (!/^[1-9]\d*$/.test(f.limit)) throw new Error('--limit must be a positive integer')
      const r = await reaching(f, queryTasks(f, f))
      const next = Buffer.from(r.nextKey).toString('hex')
      const rows = r.tasks.map((t) => [
        `${Buffer.from(t.taskIdCommitment).toString('hex').slice(0, 16)}…`, statusName(t.status), TaskType[t.taskType]?.replace('TASK_TYPE_', '').toLowerCase() ?? String(t.taskType),
        `${t.fee}uberyl`, t.selectedNode || '-', t.createTime ? secs(new Date(Number(t.createTime) * 1000).toISOString()) : '-',
      ])
      const head = ['TASK', 'STATUS', 'TYPE', 'FEE', 'NODE', 'CREATED']
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
      const fmt = (row: string[]) => row.map((x, i) => (i === row.length - 1 ? x : x.padEnd(w[i]!))).join('  ')
      const text = r.tasks.length ? [fmt(head), ...rows.map(fmt)].join('\n') : 'no tasks'
      print(f, { tasks: r.tasks.map((x) => readable(Task.toJSON(x))), next_key: next }, text + (next ? `\n\nmore: --page-key ${next}` : ''))
    })

  o.txFlags(task.command('cancel').description('cancel a queued task, refunding its fee in full (signed by its creator)')
    .argument('<task>', 'task id commitment (64 hex digits)')
    .requiredOption('--from <key>', 'the creator\'s key (name or address in the keyring)'))
    .action(async (arg: string, f: TxFlags & { from: string }) => {
      const c = commitmentArg(arg)
      await sendMsg(f, f.from, (creator) => ({ typeUrl: '/beryl.task.v1.MsgCancelTask', value: { creator, taskIdCommitment: c.bytes } }))
    })
}
