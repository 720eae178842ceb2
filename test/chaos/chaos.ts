/**
 * Chaos run: a real 4-validator network (gentx ceremony, four `beryld start` processes), 3 in-process
 * workers spread over the gateways, and an application creating image tasks continuously, while
 * every ~20 s one validator picked at random (1–3: validator 0 serves the application's and the
 * workers' RPC) is killed with SIGKILL and restarted, frozen with SIGSTOP then SIGCONT, or
 * restarted cleanly. Afterwards it checks what must hold whatever happened: every node's app hash
 * equal at every height, supply conserved and equal to the sum of all balances (accounts, task
 * escrow, bonds, GPU stakes, pools), every sequence number of the application's accounts used by
 * exactly one committed tx, and every task terminal or still within its deadline.
 *
 *   npm run chaos -- --minutes 10        (the test suite runs 1.5 minutes of it: test/integration/chaos.test.ts)
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { QueryClient, setupAuthExtension, setupBankExtension } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { BaseAccount, ModuleAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth'
import { QueryAccountsRequest, QueryAccountsResponse } from 'cosmjs-types/cosmos/auth/v1beta1/query'
import { createDevnetWorkers, startDevnetWorkers, waitForHeight, workerHome } from '../../cli/devnet.ts'
import { Keyring } from '../../cli/keyring.ts'
import { NodeProcess, createValidatorNetwork } from '../../cli/network.ts'
import { QueryTasksRequest, QueryTasksResponse } from '../../proto/gen/beryl/task/v1/query.ts'
import { TaskStatus, type Task } from '../../proto/gen/beryl/task/v1/types.ts'
import { BerylClient } from '../../sdk/client.ts'
import type { WorkerDaemon } from '../../worker/daemon/daemon.ts'
import { appHashes, heightOf, rpcGet } from '../helpers/network.ts'

export type FaultKind = 'kill' | 'pause' | 'restart'
export interface Fault {
  kind: FaultKind
  validator: number
  height: bigint
  progressed: bigint
}

export interface ChaosReport {
  minutes: number
  heights: bigint
  faults: Fault[]
  /** Faults during which the chain did not advance (must be 0: 3 of 4 validators keep it live). */
  stalls: number
  tasks: { created: number; finished: number; terminal: number; overdue: number; byStatus: Record<string, number> }
  appErrors: string[]
  divergences: number
  supply: { start: bigint; end: bigint; sumOfBalances: bigint }
  sequences: { accounts: number; txs: number; missing: number; duplicated: number }
}

/** A small deterministic PRNG (xorshift32): the run's choices repeat for a seed. */
function prng(seed: number) {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const TERMINAL = new Set([
  TaskStatus.TASK_STATUS_END_INVALIDATED,
  TaskStatus.TASK_STATUS_END_SUCCESS,
  TaskStatus.TASK_STATUS_END_ABORTED,
  TaskStatus.TASK_STATUS_END_GROUP_REFUND,
  TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
])

export async function runChaos(o: { minutes: number; faultEveryMs?: number; seed?: number; log?: (m: string) => void }): Promise<ChaosReport> {
  const log = o.log ?? (() => {})
  const random = prng(o.seed ?? 12)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-chaos-'))
  const procs: NodeProcess[] = []
  const workers: WorkerDaemon[] = []
  const clients: BerylClient[] = []
  let comet: Comet38Client | undefined
  try {
    log('chaos: genesis ceremony of 4 validators, 3 workers…')
    const net = await createValidatorNetwork(root, {
      validators: 4,
      accounts: 2,
      chainId: 'beryl-chaos-1',
      randomPorts: true,
      timeoutCommit: '500ms',
      beforeCeremony: async (home) => {
        await createDevnetWorkers(home, 3)
      },
      // A long liveness window: short faults never jail (a jailed validator would leave 3 of 4 at the next fault).
      genesis: (s) => {
        s.validator = { params: { signed_blocks_window: '2000' } }
      },
    })
    const coordinator = net.validators[0]!.home
    const rpc = net.validators[0]!.rpc
    for (const v of net.validators) {
      const p = new NodeProcess(v.home)
      procs.push(p)
      p.start()
    }
    await Promise.all(net.validators.map((v, i) => waitForHeight(v.rpc, 2n, procs[i]!.exited())))
    comet = await Comet38Client.connect(rpc)
    const { bank, auth } = QueryClient.withExtensions(comet, setupBankExtension, setupAuthExtension)
    const supplyStart = BigInt((await bank.supplyOf('uberyl')).amount)

    // Workers return one fixed PNG (this measures the protocol under faults, not the model).
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40, g: 90, b: 160 } } })
      .png()
      .toBuffer()
    workers.push(
      ...(await startDevnetWorkers(coordinator, {
        chainId: net.chainId,
        rpc,
        gateway: net.validators[0]!.gateway,
        gateways: net.validators.map((v) => v.gateway),
        log: () => {},
        runner: async () => [png],
      })),
    )
    const until = Date.now() + 120_000
    while (
      workers.some((_, k) => {
        try {
          return !JSON.parse(fs.readFileSync(path.join(workerHome(coordinator, k + 1), 'data', 'worker-status.json'), 'utf8')).gateway
        } catch {
          return true
        }
      })
    ) {
      if (Date.now() > until) throw new Error('the workers did not open their gateway sessions')
      await sleep(500)
    }
    log('chaos: network up; tasks and faults start')

    // The application: one creator per funded account, tasks one after another.
    const appErrors: string[] = []
    let created = 0,
      finished = 0
    let stop = false
    for (const a of net.accounts) {
      const wallet = await new Keyring(coordinator, 'test').wallet(a.name)
      clients.push(
        await BerylClient.connect(rpc, wallet, {
          gateways: net.validators.map((v) => v.gateway),
          keyStoreDir: path.join(root, 'sdk-tasks'),
        }),
      )
    }
    const app = Promise.all(
      clients.map(async (client, k) => {
        for (let i = 0; !stop; i++) {
          created++
          try {
            await client.runTask({ type: 'image', args: { prompt: `chaos ${k}-${i}`, width: 64, height: 64, steps: 1, seed: i }, timeoutMs: 240_000 })
            finished++
          } catch (err) {
            appErrors.push(`${(err as Error).name}: ${(err as Error).message}`)
            await sleep(1000)
          }
        }
      }),
    )

    // The faults.
    const faults: Fault[] = []
    const end = Date.now() + o.minutes * 60_000
    const every = o.faultEveryMs ?? 20_000
    while (Date.now() + every < end) {
      await sleep(every * (0.75 + random() / 2))
      const v = 1 + Math.floor(random() * 3)
      const kind = (['kill', 'pause', 'restart'] as const)[Math.floor(random() * 3)]!
      const h0 = await heightOf(rpc)
      const t0 = Date.now()
      const p = procs[v]!
      log(`chaos: ${kind} validator-${v} at height ${h0}`)
      if (kind === 'kill') {
        await p.kill()
        await sleep(5000)
        p.start()
      } else if (kind === 'pause') {
        p.pause()
        await sleep(8000)
        p.resume()
      } else {
        await p.stop()
        p.start()
      }
      // Liveness is judged over the same 10 s from the fault's start, whatever its kind.
      await sleep(Math.max(0, 10_000 - (Date.now() - t0)))
      const h1 = await heightOf(rpc)
      faults.push({ kind, validator: v, height: h0, progressed: h1 - h0 })
    }
    await sleep(Math.max(0, end - Date.now()))
    stop = true
    log('chaos: stopping task creation; waiting for the tasks in flight…')
    await app

    // Every validator back and caught up.
    const top = await heightOf(rpc)
    await Promise.all(
      net.validators.map(async (v) => {
        const deadline = Date.now() + 180_000
        while ((await heightOf(v.rpc).catch(() => 0n)) < top) {
          if (Date.now() > deadline) throw new Error(`${v.moniker} did not catch up to ${top}`)
          await sleep(500)
        }
      }),
    )
    log(`chaos: all validators at ${top}; checking…`)

    // 1. The same app hash on every node at every height.
    const hashes = await Promise.all(net.validators.map((v) => appHashes(v.rpc, top)))
    let divergences = 0
    for (let h = 0; h < Number(top); h++) if (new Set(hashes.map((x) => x[h])).size !== 1) divergences++

    // 2. Supply: unchanged, and equal to the sum of every account's balance (module accounts included).
    const supplyEnd = BigInt((await bank.supplyOf('uberyl')).amount)
    let sumOfBalances = 0n
    let key: Uint8Array = new Uint8Array()
    do {
      const r = await comet.abciQuery({
        path: '/cosmos.auth.v1beta1.Query/Accounts',
        data: QueryAccountsRequest.encode({ pagination: { key, offset: 0n, limit: 100n, countTotal: false, reverse: false } }).finish(),
      })
      const page = QueryAccountsResponse.decode(r.value)
      for (const a of page.accounts) {
        const address = a.typeUrl.endsWith('ModuleAccount') ? ModuleAccount.decode(a.value).baseAccount!.address : BaseAccount.decode(a.value).address
        sumOfBalances += BigInt((await bank.balance(address, 'uberyl')).amount)
      }
      key = page.pagination?.nextKey ?? new Uint8Array()
    } while (key.length > 0)

    // 3. Every sequence number of the application's accounts used by exactly one committed tx.
    let txs = 0,
      missing = 0,
      duplicated = 0
    for (const a of net.accounts) {
      const any = await auth.account(a.address)
      const seq = any ? Number(BaseAccount.decode(any.value).sequence) : 0
      for (let s = 0; s < seq; s++) {
        const found = await rpcGet(rpc, `tx_search?query=${encodeURIComponent(`"tx.acc_seq='${a.address}/${s}'"`)}&per_page=5`)
        const n = Number(found.total_count)
        txs += n
        if (n === 0) missing++
        if (n > 1) duplicated++
      }
    }

    // 4. Every task terminal, or still before its deadline (the chain ends it then).
    const now = BigInt(Math.floor(Date.parse((await rpcGet(rpc, 'block')).block.header.time) / 1000))
    const tasks: Task[] = []
    for (const a of net.accounts) {
      let k: Uint8Array = new Uint8Array()
      do {
        const r = await comet.abciQuery({
          path: '/beryl.task.v1.Query/Tasks',
          data: QueryTasksRequest.encode(QueryTasksRequest.fromPartial({ creator: a.address, key: k, limit: 500 })).finish(),
        })
        const page = QueryTasksResponse.decode(r.value)
        tasks.push(...page.tasks)
        k = page.nextKey
      } while (k.length > 0)
    }
    const byStatus: Record<string, number> = {}
    for (const t of tasks) byStatus[TaskStatus[t.status]!] = (byStatus[TaskStatus[t.status]!] ?? 0) + 1
    const terminal = tasks.filter((t) => TERMINAL.has(t.status)).length
    const overdue = tasks.filter((t) => !TERMINAL.has(t.status) && t.deadline > 0n && t.deadline < now).length

    return {
      minutes: o.minutes,
      heights: top,
      faults,
      stalls: faults.filter((f) => f.progressed <= 0n).length,
      tasks: { created: tasks.length, finished, terminal, overdue, byStatus },
      appErrors,
      divergences,
      supply: { start: supplyStart, end: supplyEnd, sumOfBalances },
      sequences: { accounts: net.accounts.length, txs, missing, duplicated },
    }
  } finally {
    for (const c of clients) c.disconnect()
    comet?.disconnect()
    for (const w of workers) await w.stop().catch(() => {})
    for (const p of procs) {
      p.resume()
      await p.stop().catch(() => p.kill())
    }
    fs.rmSync(root, { recursive: true, force: true })
  }
}

export function formatReport(r: ChaosReport): string {
  const kinds = (k: FaultKind) => r.faults.filter((f) => f.kind === k).length
  return [
    `chaos run: ${r.minutes} min, ${r.heights} blocks, 4 validators, 3 workers`,
    `faults injected  ${r.faults.length} (kill ${kinds('kill')}, pause ${kinds('pause')}, restart ${kinds('restart')}); stalls ${r.stalls}`,
    `                 ${r.faults.map((f) => `${f.kind} v${f.validator} @${f.height} +${f.progressed}`).join(', ')}`,
    `tasks            ${r.tasks.created} created on chain, ${r.tasks.finished} finished by the app, ${r.tasks.terminal} terminal, ${r.tasks.overdue} overdue; ${JSON.stringify(r.tasks.byStatus)}`,
    `app errors       ${r.appErrors.length}${r.appErrors.length ? ` (first: ${r.appErrors[0]})` : ''}`,
    `divergences      ${r.divergences} heights with differing app hashes`,
    `supply           start ${r.supply.start}, end ${r.supply.end}, sum of all balances ${r.supply.sumOfBalances}`,
    `sequences        ${r.sequences.txs} txs of the app's ${r.sequences.accounts} accounts; missing ${r.sequences.missing}, duplicated ${r.sequences.duplicated}`,
  ].join('\n')
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, seed: { type: 'string', default: '12' } } })
  const r = await runChaos({
    minutes: Number(values.minutes),
    seed: Number(values.seed),
    log: (m) => console.log(`${new Date().toISOString().slice(11, 19)} ${m}`),
  })
  console.log(formatReport(r))
  const ok =
    r.divergences === 0 &&
    r.stalls === 0 &&
    r.supply.start === r.supply.end &&
    r.supply.end === r.supply.sumOfBalances &&
    r.sequences.missing === 0 &&
    r.sequences.duplicated === 0 &&
    r.tasks.overdue === 0
  process.exit(ok ? 0 : 1)
}
